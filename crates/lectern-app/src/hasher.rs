//! Argon2id whose 19 MiB work area goes back to the system after each hash.
//!
//! Why: with `Argon2::default()` the crate allocates its work area (19,456
//! blocks of 1 KiB) on the heap and frees it after the hash. glibc's malloc
//! serves the first such allocation with `mmap`, but freeing it raises the
//! dynamic mmap threshold (mallopt(3), `M_MMAP_THRESHOLD`) to just above that
//! size, so every later work area comes from the arena of whichever blocking
//! thread runs the hash, and glibc keeps it there after the free (an arena is
//! only trimmed when its free top exceeds twice that size). Each thread's
//! arena so held its own 19 MiB: an idle server grew by ~19 MiB per sign-in
//! until every arena had one (72 MB after three sign-ins, 276 MB after a few
//! bursts, `bench/signins.py`).
//!
//! The fix: hand Argon2 a work area whose *capacity* is above glibc's
//! ceiling for that threshold (32 MiB on 64-bit), so it is always mapped on
//! allocation and unmapped on free, whatever the threshold has become. Only
//! the 19 MiB Argon2 writes are ever touched, so resident memory is the same;
//! the rest is address space. Other allocators are unaffected either way.
//!
//! [`ReturningArgon2`] is the crate's own `Argon2` with that one change; it
//! reads and writes the same PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`).

use argon2::password_hash::{self, Decimal, Ident, Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher, Version};

/// Above glibc's largest dynamic mmap threshold (`DEFAULT_MMAP_THRESHOLD_MAX`,
/// 32 MiB with 64-bit `long`): an allocation this big is always a mapping of
/// its own, returned to the system when freed.
const ALWAYS_MAPPED_BYTES: usize = 33 << 20;

/// A zeroed work area of `blocks` blocks in an allocation that is always mapped.
fn work_area(blocks: usize) -> Vec<Block> {
    let capacity = blocks.max(ALWAYS_MAPPED_BYTES / std::mem::size_of::<Block>());
    let mut area = Vec::with_capacity(capacity);
    area.resize(blocks, Block::default());
    area
}

/// Argon2 (the crate's defaults: Argon2id, v19, m=19456, t=2, p=1) hashing
/// into a [`work_area`]. Verification comes from `password_hash`'s blanket
/// `PasswordVerifier` impl, which re-hashes with the stored parameters and
/// compares in constant time.
#[derive(Debug, Default, Clone, Copy)]
pub struct ReturningArgon2;

impl PasswordHasher for ReturningArgon2 {
    type Params = Params;

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        alg_id: Option<Ident<'a>>,
        version: Option<Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        let algorithm = alg_id
            .map(Algorithm::try_from)
            .transpose()?
            .unwrap_or_default();
        let version = version
            .map(Version::try_from)
            .transpose()?
            .unwrap_or_default();
        let salt = salt.into();
        let mut salt_buf = [0u8; 64];
        let salt_bytes = salt.decode_b64(&mut salt_buf)?;
        let argon = Argon2::new(algorithm, version, params.clone());
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let output = Output::init_with(output_len, |out| {
            let area = work_area(params.block_count());
            Ok(argon.hash_password_into_with_memory(password, salt_bytes, out, area)?)
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt),
            hash: Some(output),
        })
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::SaltString;
    use argon2::PasswordVerifier;

    use super::*;

    #[test]
    fn same_phc_strings_as_the_crates_argon2() {
        let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
        let ours = ReturningArgon2
            .hash_password(b"hunter42", &salt)
            .unwrap()
            .to_string();
        let theirs = Argon2::default()
            .hash_password(b"hunter42", &salt)
            .unwrap()
            .to_string();
        assert_eq!(ours, theirs);
        assert!(ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = PasswordHash::new(&theirs).unwrap();
        assert!(ReturningArgon2
            .verify_password(b"hunter42", &parsed)
            .is_ok());
        assert!(ReturningArgon2
            .verify_password(b"hunter43", &parsed)
            .is_err());
    }

    #[test]
    fn other_stored_parameters_verify() {
        let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").unwrap();
        let params = Params::new(8, 1, 1, None).unwrap();
        let argon = Argon2::new(Algorithm::Argon2i, Version::V0x10, params);
        let phc = argon.hash_password(b"pw", &salt).unwrap().to_string();
        let parsed = PasswordHash::new(&phc).unwrap();
        assert!(ReturningArgon2.verify_password(b"pw", &parsed).is_ok());
        assert!(ReturningArgon2.verify_password(b"px", &parsed).is_err());
    }

    #[test]
    fn the_work_area_is_big_enough_to_be_mapped_but_only_as_long_as_asked() {
        let area = work_area(19_456);
        assert_eq!(area.len(), 19_456);
        assert!(area.capacity() * std::mem::size_of::<Block>() >= ALWAYS_MAPPED_BYTES);
    }
}
