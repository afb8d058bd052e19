//! Failed web logins counted per key (login name, client address) in a sliding window, so that
//! guessing a password costs time and a burst of failures locks the key for a while.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ServiceError;

/// Failed attempts allowed per login name and per client address within the window.
pub const MAX_FAILED_LOGINS: usize = 5;
/// How long a failure counts.
pub const FAILED_LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Counts failed logins per key (login name, client address) in a sliding window.
#[derive(Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginThrottle {
    fn recent(list: &mut Vec<Instant>, now: Instant) {
        list.retain(|t| now.duration_since(*t) < FAILED_LOGIN_WINDOW);
    }

    /// Refuses when `key` has used up its attempts; says how long until the oldest expires.
    pub fn check(&self, key: &str) -> Result<(), ServiceError> {
        let now = Instant::now();
        let Ok(mut map) = self.failures.lock() else {
            return Err(ServiceError::Unavailable);
        };
        let Some(list) = map.get_mut(key) else {
            return Ok(());
        };
        Self::recent(list, now);
        if list.len() >= MAX_FAILED_LOGINS {
            let oldest = list.first().copied().unwrap_or(now);
            let wait = FAILED_LOGIN_WINDOW.saturating_sub(now.duration_since(oldest));
            return Err(ServiceError::TooManyAttempts {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        Ok(())
    }

    /// Counts a failure of `key`.
    pub fn fail(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            if map.len() > 100_000 {
                let now = Instant::now();
                map.retain(|_, l| {
                    Self::recent(l, now);
                    !l.is_empty()
                });
            }
            map.entry(key.to_owned()).or_default().push(Instant::now());
        }
    }

    /// Forgets the failures of `key` (after a success).
    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_throttle_refuses_after_five_failures() {
        let t = LoginThrottle::default();
        for _ in 0..MAX_FAILED_LOGINS {
            assert!(t.check("k").is_ok());
            t.fail("k");
        }
        assert!(matches!(
            t.check("k"),
            Err(ServiceError::TooManyAttempts { retry_after_secs }) if retry_after_secs > 800
        ));
        assert!(t.check("other").is_ok());
        t.clear("k");
        assert!(t.check("k").is_ok());
    }
}
