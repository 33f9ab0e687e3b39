//! Giving memory back to the system after an instance closes, and after a
//! burst of work.
//!
//! glibc's allocator returns freed memory to the system only from the top
//! of its heaps; what an instance freed in the middle of them stays
//! resident, kept for reuse. Measured on 100 instances (bench/README.md,
//! issue 22), closing them left 2–3 MB of RSS each although the heap they
//! had used was free again (a counting allocator showed live bytes back at
//! the start's level). `malloc_trim(0)` hands those free pages back, so a
//! node serving many instances shrinks again after they go idle. A burst of
//! load (checks from a whole class, a report) leaves the same kind of free
//! memory behind, so the server also trims once it falls quiet after one.
//!
//! Rust's own allocations have gone to jemalloc since issue 18's eighth
//! pass (`main.rs`); it hands freed pages back itself, about a second after
//! they are freed, from its background thread. glibc's heap still holds
//! what C code allocates (SQLite's page caches and statements), so the trim
//! below still runs after closes and bursts.
//!
//! The one `unsafe` block of the workspace lives here: a call into glibc
//! that takes no pointers and locks the allocator's own structures while it
//! runs. Elsewhere (musl, other systems) there is nothing to call.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Closes in this window share one trim (a sweep may close many instances).
const SETTLE: Duration = Duration::from_secs(2);

static SCHEDULED: AtomicBool = AtomicBool::new(false);

/// Asks for freed memory to go back to the system once closes settle.
/// Cheap to call often: at most one trim is waiting at a time.
pub fn release_freed_soon() {
    if SCHEDULED.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::spawn(async {
        tokio::time::sleep(SETTLE).await;
        SCHEDULED.store(false, Ordering::Release);
        // It walks and locks every arena: off the async workers.
        let released = tokio::task::spawn_blocking(release_freed).await;
        tracing::debug!(
            released = released.unwrap_or(false),
            "freed memory handed back"
        );
    });
}

/// How often the server's CPU use is looked at.
const LOOK_EVERY: Duration = Duration::from_secs(2);
/// CPU time in one look that makes it a burst (a tenth of a core).
const BUSY: Duration = Duration::from_millis(200);
/// CPU time in one look under which the server is quiet.
const QUIET: Duration = Duration::from_millis(20);

/// Whether memory is to be trimmed after this look: a look that follows a
/// burst and is quiet itself. Returns the new "burst seen" mark too.
fn after_look(burst_seen: bool, used: Duration) -> (bool, bool) {
    if used >= BUSY {
        (true, false)
    } else if burst_seen && used <= QUIET {
        (false, true)
    } else {
        (burst_seen, false)
    }
}

/// Watches the process's CPU time and trims once it is quiet after a
/// burst; for as long as the server runs. Nothing on the request path.
pub fn trim_after_bursts() {
    tokio::spawn(async {
        let mut last = cpu_time();
        let mut burst_seen = false;
        let mut tick = tokio::time::interval(LOOK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(now) = cpu_time() else {
                return; // No /proc: nothing to watch.
            };
            let used = last.map_or(Duration::ZERO, |l| now.saturating_sub(l));
            last = Some(now);
            let (seen, trim) = after_look(burst_seen, used);
            burst_seen = seen;
            if trim {
                let released = tokio::task::spawn_blocking(release_freed).await;
                tracing::debug!(
                    released = released.unwrap_or(false),
                    "freed memory handed back after a burst"
                );
            }
        }
    });
}

/// This process's user + system CPU time (Linux: `/proc/self/stat`).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) and its `)`:
    // state is the 3rd field, utime the 14th, stime the 15th.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let ticks: u64 = fields.next()?.parse::<u64>().ok()? + fields.next()?.parse::<u64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux architecture Lectern builds for.
    Some(Duration::from_millis(ticks.saturating_mul(10)))
}

/// Returns the allocator's free pages to the system now; whether any were.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[expect(
    unsafe_code,
    reason = "glibc's malloc_trim: no pointers, no caller invariants"
)]
pub fn release_freed() -> bool {
    // SAFETY: malloc_trim takes a padding size, touches only the allocator's
    // own free lists, and serializes itself with every other malloc call.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Other allocators return large free blocks themselves.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_is_trimmed_once_when_a_burst_is_followed_by_quiet() {
        let ms = Duration::from_millis;
        // Quiet from the start: nothing to give back.
        assert_eq!(after_look(false, ms(0)), (false, false));
        // A burst, then still some work: wait.
        assert_eq!(after_look(false, ms(900)), (true, false));
        assert_eq!(after_look(true, ms(100)), (true, false));
        // Quiet after it: trim, once.
        assert_eq!(after_look(true, ms(10)), (false, true));
        assert_eq!(after_look(false, ms(10)), (false, false));
    }

    #[test]
    fn this_process_cpu_time_is_read_and_grows() {
        let Some(before) = cpu_time() else {
            assert!(!std::path::Path::new("/proc/self/stat").exists());
            return;
        };
        // Spin until the kernel has counted 50 ms of work (or 10 s passed
        // on a machine too busy to give this test a core).
        let start = std::time::Instant::now();
        let mut x = 0u64;
        let mut after = before;
        while after < before + Duration::from_millis(50)
            && start.elapsed() < Duration::from_secs(10)
        {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
            after = cpu_time().unwrap_or_default();
        }
        assert!(
            after >= before + Duration::from_millis(50),
            "{before:?} → {after:?}"
        );
    }
}
