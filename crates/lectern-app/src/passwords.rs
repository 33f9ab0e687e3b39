//! Password hashing (Argon2id with the crate's recommended parameters) and
//! random secrets for sessions and tokens.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::AppError;
use crate::hasher::ReturningArgon2;

/// Hashes a password into a PHC string (`$argon2id$v=19$…`). CPU-heavy: call
/// from a blocking thread.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    ReturningArgon2
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password failed: {e}")))
}

/// Whether `password` matches a stored PHC hash. A malformed stored hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => ReturningArgon2
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash that never verifies, used to spend the same time on unknown users.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$1WdV8KCdPHtVzv3LJ3X0c1qkTSqKbEOsq1vhKvK0D+E";

/// A fresh random secret, hex encoded (256 bits).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the store keeps of a secret: its SHA-256, so a leaked database holds
/// no usable session.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_only_its_password() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert!(!verify_password("anything", DUMMY_HASH));
    }

    #[test]
    fn secrets_are_distinct_and_hash_stably() {
        let a = new_secret();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_secret());
        assert_eq!(secret_hash(&a), secret_hash(&a));
        assert_ne!(secret_hash(&a), a);
    }
}
