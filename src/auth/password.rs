//! Argon2id password hashing.

use rand::distr::{Alphanumeric, SampleString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

use crate::error::{AppError, AppResult};

/// Shortest password accepted from a person.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password accepted; bounds the hashing work an attacker can ask for.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Hashes a password with Argon2id and a random salt, as a PHC string.
pub fn hash_password(password: &str) -> AppResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password failed: {e}").into()))
}

/// Checks a password against a stored PHC string. A malformed stored hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Spends the same work as a real verification, so that a login for an unknown email takes as
/// long as one with a wrong password and does not reveal which emails exist.
pub fn verify_against_dummy(password: &str) {
    static DUMMY: LazyLock<Option<String>> =
        LazyLock::new(|| hash_password(&Alphanumeric.sample_string(&mut rand::rng(), 24)).ok());
    if let Some(phc) = DUMMY.as_deref() {
        let _ = verify_password(password, phc);
    }
}

/// Checks `password` against the stored hash, or spends the same work when there is none (see
/// [`verify_against_dummy`]), off the runtime (see [`off_runtime`]).
pub async fn verify_off_runtime(password: &str, stored: Option<String>) -> AppResult<bool> {
    let password = password.to_owned();
    off_runtime(move || match stored {
        Some(phc) => verify_password(&password, &phc),
        None => {
            verify_against_dummy(&password);
            false
        }
    })
    .await
}

/// Hashes a new password off the runtime (see [`off_runtime`]).
pub async fn hash_off_runtime(password: &str) -> AppResult<String> {
    let password = password.to_owned();
    off_runtime(move || hash_password(&password)).await?
}

/// Argon2 runs at most this many at once in the process: each takes 19 MiB and a core for a
/// while, so more at once only adds memory and latency. Set at start-up (one per core).
static HASHING: LazyLock<Arc<tokio::sync::Semaphore>> = LazyLock::new(|| {
    Arc::new(tokio::sync::Semaphore::new(
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2),
    ))
});
/// Password checks that may wait for a free hashing slot; beyond this a caller is told to come
/// back later instead of queueing (an attacker's burst would otherwise pile up in memory).
pub const MAX_WAITING_HASHES: usize = 64;
static WAITING: AtomicUsize = AtomicUsize::new(0);
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The most Argon2 computations this process has run at once (for tests and benchmarks).
pub fn peak_concurrent_hashes() -> usize {
    PEAK.load(Ordering::SeqCst)
}

/// Runs Argon2 work on a blocking thread, at most one per core at once, with a bounded queue:
/// past [`MAX_WAITING_HASHES`] waiting callers the answer is `RATE_LIMITED`.
pub async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> AppResult<T> {
    let waiting = WAITING.fetch_add(1, Ordering::SeqCst);
    let _waiting = scopeguard(|| {
        WAITING.fetch_sub(1, Ordering::SeqCst);
    });
    if waiting >= MAX_WAITING_HASHES {
        return Err(AppError::RateLimited {
            retry_after_secs: 1,
        });
    }
    let permit = HASHING
        .clone()
        .acquire_owned()
        .await
        .map_err(AppError::internal)?;
    // The permit goes with the work: a cancelled caller does not free the slot early.
    tokio::task::spawn_blocking(move || {
        let running = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
        PEAK.fetch_max(running, Ordering::SeqCst);
        let out = work();
        RUNNING.fetch_sub(1, Ordering::SeqCst);
        drop(permit);
        out
    })
    .await
    .map_err(AppError::internal)
}

/// Runs `f` when dropped (also when the future holding it is cancelled).
fn scopeguard(f: impl FnOnce()) -> impl Drop {
    struct Guard<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for Guard<F> {
        fn drop(&mut self) {
            if let Some(f) = self.0.take() {
                f();
            }
        }
    }
    Guard(Some(f))
}

/// Refuses passwords that are too short or too long.
pub fn check_password_policy(password: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AppError::bad_input(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters long"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AppError::bad_input(
            "password",
            format!("must be at most {MAX_PASSWORD_CHARS} characters long"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_argon2id() {
        let phc = hash_password("correct horse battery staple").unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &phc));
        assert!(!verify_password("wrong horse battery staple", &phc));
        assert!(!verify_password("anything", "not a phc string"));
    }

    #[test]
    fn the_policy_counts_characters_not_bytes() {
        assert!(check_password_policy(&"ä".repeat(MIN_PASSWORD_CHARS)).is_ok());
        assert!(check_password_policy(&"ä".repeat(MIN_PASSWORD_CHARS - 1)).is_err());
        assert!(check_password_policy("short").is_err());
        assert!(check_password_policy(&"a".repeat(MAX_PASSWORD_CHARS + 1)).is_err());
    }
}
