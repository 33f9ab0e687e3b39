//! The compact encoding inside an archive: varints, length-prefixed strings
//! and typed values, with every byte going through the current member's
//! SHA-256. Reads are bounded so a hostile archive cannot make a value or a
//! row of any size.

use std::io::{self, Read, Write};

use lectern_app::backup::Value;
use sha2::{Digest, Sha256};

/// The largest text or byte value read back (blob chunks are 1 MiB).
pub const MAX_VALUE: u64 = 64 * 1024 * 1024;
/// The largest table or column name read back.
pub const MAX_NAME: u64 = 1024;
/// The most columns a table may have.
pub const MAX_COLUMNS: u64 = 2000;

const NULL: u8 = 0;
const INTEGER: u8 = 1;
const REAL: u8 = 2;
const TEXT: u8 = 3;
const BYTES: u8 = 4;

/// A writer that hashes what it writes into the current member.
pub struct WireOut<W> {
    pub inner: W,
    pub hasher: Sha256,
}

impl<W: Write> WireOut<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    pub fn bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.hasher.update(b);
        self.inner.write_all(b)
    }

    pub fn varint(&mut self, mut v: u64) -> io::Result<()> {
        let mut buf = [0u8; 10];
        let mut n = 0;
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                buf[n] = byte;
                n += 1;
                break;
            }
            buf[n] = byte | 0x80;
            n += 1;
        }
        self.bytes(&buf[..n])
    }

    pub fn blob(&mut self, b: &[u8]) -> io::Result<()> {
        self.varint(b.len() as u64)?;
        self.bytes(b)
    }

    pub fn value(&mut self, v: &Value) -> io::Result<()> {
        match v {
            Value::Null => self.bytes(&[NULL]),
            Value::Integer(i) => {
                self.bytes(&[INTEGER])?;
                self.varint(((*i << 1) ^ (*i >> 63)) as u64)
            }
            Value::Real(f) => {
                self.bytes(&[REAL])?;
                self.bytes(&f.to_bits().to_le_bytes())
            }
            Value::Text(s) => {
                self.bytes(&[TEXT])?;
                self.blob(s.as_bytes())
            }
            Value::Bytes(b) => {
                self.bytes(&[BYTES])?;
                self.blob(b)
            }
        }
    }

    /// The hash of the member written since the last call, starting the next.
    pub fn take_hash(&mut self) -> String {
        hex::encode(std::mem::take(&mut self.hasher).finalize())
    }
}

/// A reader that hashes what it reads into the current member.
pub struct WireIn<R> {
    pub inner: R,
    pub hasher: Sha256,
}

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl<R: Read> WireIn<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    pub fn exact(&mut self, buf: &mut [u8]) -> io::Result<()> {
        self.inner.read_exact(buf)?;
        self.hasher.update(&*buf);
        Ok(())
    }

    pub fn byte(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.exact(&mut b)?;
        Ok(b[0])
    }

    pub fn varint(&mut self) -> io::Result<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err(bad("a number in the archive is too large"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("a number in the archive is too long"))
    }

    pub fn blob(&mut self, max: u64) -> io::Result<Vec<u8>> {
        let len = self.varint()?;
        if len > max {
            return Err(bad(format!(
                "a value in the archive claims {len} bytes, more than the {max} allowed"
            )));
        }
        let mut buf = vec![0u8; len as usize];
        self.exact(&mut buf)?;
        Ok(buf)
    }

    pub fn text(&mut self, max: u64) -> io::Result<String> {
        String::from_utf8(self.blob(max)?).map_err(|_| bad("a text value is not UTF-8"))
    }

    pub fn value(&mut self) -> io::Result<Value> {
        Ok(match self.byte()? {
            NULL => Value::Null,
            INTEGER => {
                let z = self.varint()?;
                Value::Integer(((z >> 1) as i64) ^ -((z & 1) as i64))
            }
            REAL => {
                let mut b = [0u8; 8];
                self.exact(&mut b)?;
                Value::Real(f64::from_bits(u64::from_le_bytes(b)))
            }
            TEXT => Value::Text(self.text(MAX_VALUE)?),
            BYTES => Value::Bytes(self.blob(MAX_VALUE)?),
            other => return Err(bad(format!("unknown value type {other} in the archive"))),
        })
    }

    pub fn take_hash(&mut self) -> String {
        hex::encode(std::mem::take(&mut self.hasher).finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let values = [
            Value::Null,
            Value::Integer(0),
            Value::Integer(-1),
            Value::Integer(i64::MIN),
            Value::Integer(i64::MAX),
            Value::Real(-0.5),
            Value::Text("é\u{0}x".into()),
            Value::Bytes(vec![0, 255, 7]),
        ];
        let mut out = WireOut::new(Vec::new());
        for v in &values {
            out.value(v).unwrap();
        }
        let written = out.take_hash();
        let mut inp = WireIn::new(&out.inner[..]);
        for v in &values {
            assert_eq!(&inp.value().unwrap(), v);
        }
        assert_eq!(written, inp.take_hash());
    }

    #[test]
    fn oversized_lengths_are_refused_before_allocating() {
        let mut out = WireOut::new(Vec::new());
        out.bytes(&[TEXT]).unwrap();
        out.varint(MAX_VALUE + 1).unwrap();
        let err = WireIn::new(&out.inner[..]).value().unwrap_err();
        assert!(err.to_string().contains("more than"), "{err}");
    }
}
