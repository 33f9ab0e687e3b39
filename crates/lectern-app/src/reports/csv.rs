//! Writing a report's CSV: RFC 4180 quoting, cells made safe for
//! spreadsheets, and the bytes handed to the store a chunk at a time as
//! rows are written, so a report of any size holds one chunk in memory.
//!
//! Spreadsheet formula injection (OWASP "CSV Injection"): a cell that
//! starts with `=`, `+`, `-`, `@`, a tab or a carriage return may be run as
//! a formula when the file is opened, so such a cell gets a leading `'`,
//! which spreadsheets show as text. Learners choose their names and
//! answers, so every cell goes through [`safe_cell`]; the numbers reports
//! write are never negative, so no number is changed by it.

use std::sync::Arc;

use crate::store::{Store, StoreResult};

/// Bytes per stored chunk.
pub const CHUNK_BYTES: usize = 256 * 1024;

/// `cell` as a spreadsheet shows it as text: a leading `'` when it starts
/// with a character that starts a formula.
pub fn safe_cell(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Appends one CSV record (cells made safe, quoted when needed, CRLF).
pub fn push_record<S: AsRef<str>>(out: &mut Vec<u8>, cells: &[S]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let cell = safe_cell(cell.as_ref());
        if cell.contains([',', '"', '\n', '\r']) {
            out.push(b'"');
            out.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.extend_from_slice(b"\r\n");
}

/// A number as Python prints a float (`1.0`, `0.85`), which is how Open
/// edX's reports write grades.
pub fn py_float(x: f64) -> String {
    if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 {
        format!("{x:.1}")
    } else {
        format!("{x}")
    }
}

/// A report being written: records buffered up to [`CHUNK_BYTES`], then
/// stored as the next chunk.
pub struct ReportWriter {
    store: Arc<dyn Store>,
    id: i64,
    buf: Vec<u8>,
    seq: i64,
    size: u64,
    rows: i64,
}

impl ReportWriter {
    pub fn new(store: Arc<dyn Store>, id: i64) -> Self {
        ReportWriter {
            store,
            id,
            buf: Vec::with_capacity(CHUNK_BYTES + 4096),
            seq: 0,
            size: 0,
            rows: 0,
        }
    }

    /// The header record (not counted as a row).
    pub async fn header<S: AsRef<str>>(&mut self, cells: &[S]) -> StoreResult<()> {
        push_record(&mut self.buf, cells);
        self.flush_full().await
    }

    pub async fn row<S: AsRef<str>>(&mut self, cells: &[S]) -> StoreResult<()> {
        push_record(&mut self.buf, cells);
        self.rows += 1;
        self.flush_full().await
    }

    async fn flush_full(&mut self) -> StoreResult<()> {
        while self.buf.len() >= CHUNK_BYTES {
            let rest = self.buf.split_off(CHUNK_BYTES);
            let chunk = std::mem::replace(&mut self.buf, rest);
            self.put(&chunk).await?;
        }
        Ok(())
    }

    async fn put(&mut self, chunk: &[u8]) -> StoreResult<()> {
        self.store
            .put_report_chunk(self.id, self.seq, chunk)
            .await?;
        self.seq += 1;
        self.size += chunk.len() as u64;
        Ok(())
    }

    /// Stores what is left; (size, rows, chunks).
    pub async fn finish(mut self) -> StoreResult<(u64, i64, i64)> {
        if !self.buf.is_empty() {
            let last = std::mem::take(&mut self.buf);
            self.put(&last).await?;
        }
        Ok((self.size, self.rows, self.seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_prefixed_and_quoting_follows_rfc_4180() {
        let mut out = Vec::new();
        push_record(
            &mut out,
            &[
                "=1+2",
                "+x",
                "-3",
                "@SUM(A1)",
                "\tx",
                "plain",
                "a,b",
                "say \"hi\"",
                "two\nlines",
                "",
            ],
        );
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            "'=1+2,'+x,'-3,'@SUM(A1),'\tx,plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\r\n"
        );
    }

    #[test]
    fn floats_print_as_python_does() {
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(0.0), "0.0");
        assert_eq!(py_float(0.85), "0.85");
        assert_eq!(py_float(2.5), "2.5");
    }
}
