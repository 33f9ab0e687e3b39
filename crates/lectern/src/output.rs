//! What commands print for the user, on standard output.
//!
//! `println!` panics when the reader has gone (`lectern doctor | head`):
//! Rust ignores SIGPIPE, so the write fails with a broken pipe and the
//! command would end in a panic message. Commands print through `say!`
//! instead: a reader that has gone ends the process quietly with status 0
//! (what was asked for is done; only the rest of the text was not wanted),
//! and any other write error is reported once and ends it with status 1.

use std::io::Write;

/// Writes one formatted line (or text, with `newline` false) to stdout.
pub fn write(args: std::fmt::Arguments<'_>, newline: bool) {
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|()| {
            if newline {
                out.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: writing to standard output: {e}");
            std::process::exit(1);
        }
    }
}

/// `println!` for command output; see the module docs.
macro_rules! say {
    () => { $crate::output::write(format_args!(""), true) };
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*), true) };
}

/// `print!` for command output.
macro_rules! say_part {
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*), false) };
}
