//! Operator password hashing with argon2id (PHC strings), constant-time verification.

use argon2::{ARGON2ID_IDENT, Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// Hashes `password` with argon2id and a fresh random salt; returns the PHC string.
pub fn hash(password: &str) -> Result<String, String> {
    let hash: PasswordHash =
        Argon2::default().hash_password(password.as_bytes()).map_err(|e| e.to_string())?;
    Ok(hash.to_string())
}

/// Checks that `phc` is an argon2id PHC string we can verify against.
pub fn validate_hash(phc: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(phc).map_err(|e| format!("not a PHC hash string ({e})"))?;
    if parsed.algorithm != ARGON2ID_IDENT {
        return Err(format!("expected an argon2id hash, got {}", parsed.algorithm));
    }
    Ok(())
}

/// True when `password` matches the PHC hash. A malformed hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    // The str verifier parses the PHC string itself and rejects other algorithms.
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_verifies_and_rejects_wrong_password() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(validate_hash(&h).is_ok());
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsE", &h));
        assert!(!verify("", &h));
        assert_ne!(h, hash("correct horse").unwrap(), "salts must differ");
    }

    #[test]
    fn malformed_or_foreign_hashes_are_refused() {
        assert!(validate_hash("plaintext").is_err());
        assert!(!verify("x", "plaintext"));
        let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Y2Ci1cfv4hRmh2Yb2j7F8Q";
        assert!(validate_hash(argon2i).unwrap_err().contains("argon2id"));
    }
}
