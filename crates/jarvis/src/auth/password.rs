//! Operator password hashing with argon2id (PHC strings), constant-time verification, and the
//! [`HashGate`] that bounds how many hashes run at once.
//!
//! # Why the working memory is allocated here
//! argon2id with the default parameters works in 19 MiB. Left to itself the argon2 crate
//! allocates that per hash and frees it afterwards — and glibc then keeps it: freeing a large
//! mmapped block raises malloc's dynamic mmap threshold to that size, so every later 19 MiB
//! block comes from a heap arena that is never trimmed. One login added ~20 MB of RSS for good,
//! eight concurrent ones ~150 MB. Here every hash gets its blocks from one vector whose
//! *capacity* is above glibc's largest possible threshold (32 MiB on 64-bit), so it is always
//! mmapped and unmapped on drop (never raising the threshold), while only the blocks argon2
//! uses are ever touched. Other allocators (musl, jemalloc) also map allocations that large
//! directly. [`HashGate`] caps how many of these buffers exist at once, so a burst of logins
//! from many addresses costs bounded memory and CPU instead of growing without limit.

use std::sync::atomic::{AtomicUsize, Ordering};

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Capacity (in 1 KiB blocks) of every working buffer: 33 MiB, above glibc's maximum dynamic
/// mmap threshold, so the buffer is always a private mapping returned to the OS when dropped.
const UNPOOLED_BLOCKS: usize = 33 * 1024;

/// Runs argon2 with working memory that goes back to the OS afterwards (see the module docs).
fn argon2_into(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let needed = argon.params().block_count();
    let mut blocks: Vec<Block> = Vec::with_capacity(needed.max(UNPOOLED_BLOCKS));
    blocks.resize(needed, Block::new());
    argon.hash_password_into_with_memory(password, salt, out, &mut blocks[..])
}

/// Hashes `password` with argon2id (default parameters) and a fresh random salt; returns the
/// PHC string.
pub fn hash(password: &str) -> Result<String, String> {
    let argon = Argon2::default();
    let salt_bytes: [u8; 16] = rand::random();
    let salt = Salt::new(&salt_bytes).map_err(|e| e.to_string())?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon, password.as_bytes(), &salt, &mut out).map_err(|e| e.to_string())?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|e| e.to_string())?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

/// Checks that `phc` is an argon2id PHC string we can verify against.
pub fn validate_hash(phc: &str) -> Result<(), String> {
    let parsed = PasswordHash::new(phc).map_err(|e| format!("not a PHC hash string ({e})"))?;
    if parsed.algorithm != ARGON2ID_IDENT {
        return Err(format!("expected an argon2id hash, got {}", parsed.algorithm));
    }
    Params::try_from(&parsed).map_err(|e| format!("unusable argon2 parameters ({e})"))?;
    if parsed.salt.is_none() || parsed.hash.is_none() {
        return Err("the hash string has no salt or no hash".into());
    }
    Ok(())
}

/// True when `password` matches the PHC hash (compared in constant time). A malformed hash, or
/// one of another algorithm, never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else { return false };
    if parsed.algorithm != ARGON2ID_IDENT {
        return false;
    }
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else { return false };
    let Ok(params) = Params::try_from(&parsed) else { return false };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let argon = Argon2::new(Algorithm::Argon2id, version, params);
    let mut out = vec![0u8; expected.len()];
    if argon2_into(&argon, password.as_bytes(), salt, &mut out).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|computed| computed == *expected)
}

/// Refused because too many password checks are already queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks in progress")]
pub struct Busy;

/// Bounds password hashing: at most `parallel` hashes run at once (each holds ~19 MiB), and at
/// most `max_waiting` more wait for a turn; beyond that a check is refused at once.
#[derive(Debug)]
pub struct HashGate {
    permits: Semaphore,
    parallel: usize,
    max_waiting: usize,
    /// Checks admitted (running or waiting).
    admitted: AtomicUsize,
    running: AtomicUsize,
    peak_running: AtomicUsize,
}

/// A place in the gate's queue, from [`HashGate::admit`]; [`Ticket::verify`] runs the check.
/// Dropping it (used or not) gives the place back.
#[derive(Debug)]
pub struct Ticket<'a> {
    gate: &'a HashGate,
    ran: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        if self.ran {
            self.gate.running.fetch_sub(1, Ordering::SeqCst);
        }
        self.gate.admitted.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Ticket<'_> {
    /// Verifies `candidate` against `phc` on a blocking thread once a hashing slot is free.
    pub async fn verify(mut self, candidate: String, phc: String) -> bool {
        // The semaphore is never closed, so acquiring cannot fail; if it did, nothing matches.
        let Ok(_permit) = self.gate.permits.acquire().await else { return false };
        let now = self.gate.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.ran = true;
        self.gate.peak_running.fetch_max(now, Ordering::SeqCst);
        tokio::task::spawn_blocking(move || verify(&candidate, &phc)).await.unwrap_or(false)
    }
}

impl HashGate {
    /// A gate letting `parallel` hashes run and `max_waiting` more wait.
    pub fn new(parallel: usize, max_waiting: usize) -> HashGate {
        let parallel = parallel.max(1);
        HashGate {
            permits: Semaphore::new(parallel),
            parallel,
            max_waiting,
            admitted: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak_running: AtomicUsize::new(0),
        }
    }

    /// How many hashes may run at once.
    pub fn parallel(&self) -> usize {
        self.parallel
    }

    /// Hashes running right now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// The most hashes that ever ran at the same time.
    pub fn peak_running(&self) -> usize {
        self.peak_running.load(Ordering::SeqCst)
    }

    /// A place in the queue, or [`Busy`] at once when `parallel + max_waiting` checks are
    /// already admitted. Nothing about the password has been looked at when this refuses.
    pub fn admit(&self) -> Result<Ticket<'_>, Busy> {
        if self.admitted.fetch_add(1, Ordering::SeqCst) >= self.parallel + self.max_waiting {
            self.admitted.fetch_sub(1, Ordering::SeqCst);
            return Err(Busy);
        }
        Ok(Ticket { gate: self, ran: false })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    #[test]
    fn hash_verifies_and_rejects_wrong_password() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(validate_hash(&h).is_ok());
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsE", &h));
        assert!(!verify("", &h));
        assert_ne!(h, hash("correct horse").unwrap(), "salts must differ");
    }

    #[test]
    fn interoperates_with_the_argon2_crate_both_ways() {
        // A hash made by the crate's own hasher (what `jarvis hash-password` users may have
        // from other tools) verifies here, and ours verifies there.
        let theirs = Argon2::default().hash_password(b"s3cret pass").unwrap().to_string();
        assert!(verify("s3cret pass", &theirs));
        assert!(!verify("s3cret pasS", &theirs));
        let ours = hash("s3cret pass").unwrap();
        assert!(Argon2::default().verify_password(b"s3cret pass", ours.as_str()).is_ok());
        // Non-default parameters are read from the string, not assumed.
        let small = Params::new(1024, 1, 1, None).unwrap();
        let custom = Argon2::new(Algorithm::Argon2id, Version::V0x13, small)
            .hash_password(b"pw")
            .unwrap()
            .to_string();
        assert!(custom.contains("m=1024,t=1,p=1"), "{custom}");
        assert!(verify("pw", &custom));
    }

    #[test]
    fn malformed_or_foreign_hashes_are_refused() {
        assert!(validate_hash("plaintext").is_err());
        assert!(!verify("x", "plaintext"));
        let argon2i = "$argon2i$v=19$m=16,t=2,p=1$c29tZXNhbHQ$Y2Ci1cfv4hRmh2Yb2j7F8Q";
        assert!(validate_hash(argon2i).unwrap_err().contains("argon2id"));
        assert!(!verify("x", argon2i));
        assert!(validate_hash("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ").is_err(), "no hash");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn gate_bounds_running_hashes_and_refuses_past_the_queue() {
        let phc = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 3, 1, None).unwrap(),
        )
        .hash_password(b"right")
        .unwrap()
        .to_string();
        let gate = Arc::new(HashGate::new(2, 5));
        assert_eq!(gate.parallel(), 2);
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let (gate, phc) = (gate.clone(), phc.clone());
                tokio::spawn(async move {
                    let pw = if i % 2 == 0 { "right" } else { "wrong" };
                    let verdict = match gate.admit() {
                        Ok(ticket) => Ok(ticket.verify(pw.into(), phc).await),
                        Err(busy) => Err(busy),
                    };
                    (pw, verdict)
                })
            })
            .collect();
        let mut busy = 0;
        for t in tasks {
            match t.await.unwrap() {
                (pw, Ok(matched)) => assert_eq!(matched, pw == "right"),
                (_, Err(Busy)) => busy += 1,
            }
        }
        assert!(gate.peak_running() <= 2, "peak {}", gate.peak_running());
        assert!(gate.peak_running() >= 1);
        // 20 arrive within microseconds while one hash takes tens of milliseconds.
        assert!(busy >= 1, "a queue of 2 running + 5 waiting must refuse part of a burst of 20");
        assert_eq!(gate.running(), 0);
        // Once the burst is over the gate admits again, and a refused place is given back.
        let held: Vec<_> = (0..7).map(|_| gate.admit().unwrap()).collect();
        assert_eq!(gate.admit().unwrap_err(), Busy);
        drop(held);
        assert!(gate.admit().unwrap().verify("right".into(), phc).await);
    }
}
