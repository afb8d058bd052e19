//! Failed web logins counted per key (login name, client address) in a sliding window, so that
//! guessing a password costs time and a burst of failures locks the key for a while.
//!
//! An attempt takes its slot before the password is checked, under one lock for all its keys:
//! 64 parallel guesses get five checks, not 64 (a check-then-count throttle let 36 through).
//! A success gives its slot back. Hand-written rather than `governor`: a rate limiter cannot
//! give back the slot of an attempt that succeeded, and a login that works must not count
//! against an office behind one address.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ServiceError;

/// Failed attempts allowed per login name within the window.
pub const MAX_FAILED_PER_LOGIN: usize = 5;
/// Failed attempts allowed per client address within the window (an office shares one).
pub const MAX_FAILED_PER_CLIENT: usize = 20;
/// How long a failure counts.
pub const FAILED_LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys kept before the expired ones are swept.
const SWEEP_ABOVE: usize = 100_000;

/// Counts failed logins per key (login name, client address) in a sliding window.
#[derive(Default)]
pub struct LoginThrottle {
    attempts: Mutex<HashMap<String, Vec<Instant>>>,
}

/// The slots one login attempt holds: counted as failures unless [`LoginThrottle::succeeded`]
/// gives them back.
#[must_use = "a reservation is given back only by `succeeded`"]
pub struct Reservation {
    keys: Vec<String>,
    at: Instant,
}

impl LoginThrottle {
    fn recent(list: &mut Vec<Instant>, now: Instant) {
        list.retain(|t| now.duration_since(*t) < FAILED_LOGIN_WINDOW);
    }

    /// Takes a slot on every key (each with its limit), or none when one key has used up its
    /// attempts; then says how long until that key's oldest failure expires.
    pub fn reserve(&self, keys: &[(&str, usize)]) -> Result<Reservation, ServiceError> {
        let now = Instant::now();
        let Ok(mut map) = self.attempts.lock() else {
            return Err(ServiceError::Unavailable);
        };
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, l| {
                Self::recent(l, now);
                !l.is_empty()
            });
        }
        for (key, limit) in keys {
            if let Some(list) = map.get_mut(*key) {
                Self::recent(list, now);
                if list.len() >= *limit {
                    let oldest = list.first().copied().unwrap_or(now);
                    let wait = FAILED_LOGIN_WINDOW.saturating_sub(now.duration_since(oldest));
                    return Err(ServiceError::TooManyAttempts {
                        retry_after_secs: wait.as_secs().max(1),
                    });
                }
            }
        }
        for (key, _) in keys {
            map.entry((*key).to_owned()).or_default().push(now);
        }
        Ok(Reservation {
            keys: keys.iter().map(|(k, _)| (*k).to_owned()).collect(),
            at: now,
        })
    }

    /// The attempt succeeded: its slots are given back, and the first key's (the login
    /// name's) earlier failures forgiven.
    pub fn succeeded(&self, reservation: Reservation) {
        let Ok(mut map) = self.attempts.lock() else {
            return;
        };
        for (i, key) in reservation.keys.iter().enumerate() {
            if i == 0 {
                map.remove(key);
            } else if let Some(list) = map.get_mut(key)
                && let Some(at) = list.iter().position(|t| *t == reservation.at)
            {
                list.remove(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_refuses_after_five_failures_and_a_success_gives_its_slot_back() {
        let t = LoginThrottle::default();
        let keys = [
            ("login:k", MAX_FAILED_PER_LOGIN),
            ("client:a", MAX_FAILED_PER_CLIENT),
        ];
        for _ in 0..MAX_FAILED_PER_LOGIN {
            assert!(t.reserve(&keys).is_ok());
        }
        assert!(matches!(
            t.reserve(&keys),
            Err(ServiceError::TooManyAttempts { retry_after_secs }) if retry_after_secs > 800
        ));
        // Another login from the same address still has room; its success frees its slot.
        let other = [
            ("login:m", MAX_FAILED_PER_LOGIN),
            ("client:a", MAX_FAILED_PER_CLIENT),
        ];
        for _ in 0..100 {
            let Ok(r) = t.reserve(&other) else {
                panic!("successful logins used up the address's slots")
            };
            t.succeeded(r);
        }
        // Failures of many names from one address stop at its own limit (the first name's five
        // failures already count: fifteen more pass).
        let mut refused = 0;
        for n in 0..MAX_FAILED_PER_CLIENT {
            if t.reserve(&[
                (&format!("login:{n}"), MAX_FAILED_PER_LOGIN),
                ("client:a", MAX_FAILED_PER_CLIENT),
            ])
            .is_err()
            {
                refused += 1;
            }
        }
        assert_eq!(
            refused, MAX_FAILED_PER_LOGIN,
            "the address allows {MAX_FAILED_PER_CLIENT} failures in all"
        );
    }

    #[test]
    fn parallel_guesses_each_take_a_slot_before_checking() {
        let t = std::sync::Arc::new(LoginThrottle::default());
        let granted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..64)
            .map(|_| {
                let (t, granted) = (t.clone(), granted.clone());
                std::thread::spawn(move || {
                    if t.reserve(&[("login:k", MAX_FAILED_PER_LOGIN)]).is_ok() {
                        granted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for th in threads {
            assert!(th.join().is_ok());
        }
        assert_eq!(
            granted.load(std::sync::atomic::Ordering::SeqCst),
            MAX_FAILED_PER_LOGIN
        );
    }
}
