//! Optional encryption of a whole archive with age: a passphrase (scrypt) or
//! one or more age recipients (public keys, so the node that writes backups
//! cannot read them back). The compressed stream is encrypted; an archive
//! that is not encrypted starts with zstd's magic number instead.

use std::io::{self, BufRead, Read, Write};
use std::str::FromStr;

use age::secrecy::SecretString;

use crate::BackupError;

const AGE_MAGIC: &[u8] = b"age-encryption.org/";

/// How a new archive is encrypted.
#[derive(Default)]
pub enum Encryption {
    #[default]
    None,
    Passphrase(SecretString),
    Recipients(Vec<age::x25519::Recipient>),
}

impl Encryption {
    /// Parses `age1…` public keys.
    pub fn recipients(keys: &[String]) -> Result<Self, BackupError> {
        let parsed = keys
            .iter()
            .map(|k| {
                age::x25519::Recipient::from_str(k.trim())
                    .map_err(|e| BackupError::Usage(format!("bad age recipient {k:?}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Encryption::Recipients(parsed))
    }

    pub fn passphrase(p: &str) -> Self {
        Encryption::Passphrase(SecretString::from(p.to_string()))
    }
}

/// The keys that may open an archive.
#[derive(Default)]
pub struct Keys {
    pub passphrase: Option<SecretString>,
    pub identities: Vec<Box<dyn age::Identity + Send + Sync>>,
}

impl Keys {
    pub fn passphrase(p: &str) -> Self {
        Keys {
            passphrase: Some(SecretString::from(p.to_string())),
            identities: Vec::new(),
        }
    }

    /// Reads `AGE-SECRET-KEY-…` lines from an identity file's text.
    pub fn identity_text(text: &str) -> Result<Self, BackupError> {
        let mut identities: Vec<Box<dyn age::Identity + Send + Sync>> = Vec::new();
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let id = age::x25519::Identity::from_str(line).map_err(|e| {
                BackupError::Usage(format!(
                    "the identity file has a line that is not an age key: {e}"
                ))
            })?;
            identities.push(Box::new(id));
        }
        if identities.is_empty() {
            return Err(BackupError::Usage(
                "the identity file holds no age key".into(),
            ));
        }
        Ok(Keys {
            passphrase: None,
            identities,
        })
    }
}

/// The encryption layer under the compressor.
pub enum Sealed<W: Write> {
    Plain(W),
    Age(age::stream::StreamWriter<W>),
}

impl<W: Write> Sealed<W> {
    pub fn new(out: W, enc: &Encryption) -> Result<Self, BackupError> {
        let encryptor = match enc {
            Encryption::None => return Ok(Sealed::Plain(out)),
            Encryption::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
            Encryption::Recipients(rs) => {
                age::Encryptor::with_recipients(rs.iter().map(|r| r as &dyn age::Recipient))
                    .map_err(|e| BackupError::Usage(format!("cannot encrypt: {e}")))?
            }
        };
        let w = encryptor
            .wrap_output(out)
            .map_err(BackupError::io("starting encryption"))?;
        Ok(Sealed::Age(w))
    }

    pub fn finish(self) -> io::Result<W> {
        match self {
            Sealed::Plain(w) => Ok(w),
            Sealed::Age(w) => w.finish(),
        }
    }
}

impl<W: Write> Write for Sealed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sealed::Plain(w) => w.write(buf),
            Sealed::Age(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sealed::Plain(w) => w.flush(),
            Sealed::Age(w) => w.flush(),
        }
    }
}

/// Opens the encryption layer of an archive: the plaintext (still
/// compressed) stream, or a clear error when it is encrypted and no key fits.
pub fn unseal<R: BufRead + Send + 'static>(
    mut input: R,
    keys: &Keys,
) -> Result<Box<dyn Read + Send>, BackupError> {
    let head = input.fill_buf().map_err(crate::error::reading)?;
    if !head.starts_with(AGE_MAGIC) {
        return Ok(Box::new(input));
    }
    let decryptor = age::Decryptor::new_buffered(input)
        .map_err(|e| BackupError::Corrupt(format!("its encryption header is unreadable: {e}")))?;
    let scrypt;
    let mut ids: Vec<&dyn age::Identity> = Vec::new();
    if decryptor.is_scrypt() {
        let Some(p) = &keys.passphrase else {
            return Err(BackupError::Key(
                "this backup is encrypted with a passphrase: give it with --passphrase-file".into(),
            ));
        };
        scrypt = age::scrypt::Identity::new(p.clone());
        ids.push(&scrypt);
    } else {
        if keys.identities.is_empty() {
            return Err(BackupError::Key(
                "this backup is encrypted to an age key: give the secret key with --identity-file"
                    .into(),
            ));
        }
        ids.extend(
            keys.identities
                .iter()
                .map(|i| i.as_ref() as &dyn age::Identity),
        );
    }
    let reader = decryptor.decrypt(ids.into_iter()).map_err(|e| match e {
        age::DecryptError::NoMatchingKeys | age::DecryptError::DecryptionFailed => {
            BackupError::Key(
                "wrong passphrase or key: the backup cannot be decrypted with it".into(),
            )
        }
        other => BackupError::Corrupt(format!("cannot decrypt: {other}")),
    })?;
    Ok(Box::new(reader))
}
