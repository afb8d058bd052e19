//! Refusals counted rather than appended one by one, so that nobody signed in can fill the log
//! with `access.denied` entries. Per user and action, in a window of [`REFUSAL_WINDOW`]: the
//! first [`APPENDED_PER_WINDOW`] refusals are appended as they happen (a probe is seen at once,
//! with what it asked and which policy refused it); the rest are counted, and when the window
//! closes one more entry records the last of them with `repeated`, how many it stands for.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a window of counted refusals lasts.
pub const REFUSAL_WINDOW: Duration = Duration::from_secs(60);
/// Refusals appended one by one per user, action and window.
pub const APPENDED_PER_WINDOW: u32 = 5;
/// Windows kept before the closed ones must be summed up and swept.
const MAX_WINDOWS: usize = 100_000;

/// What to do with a refusal.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal<T> {
    /// Append it, after the summaries of windows it closed (each the last refusal counted
    /// there, and how many refusals it stands for).
    Append { summaries: Vec<(T, u64)> },
    /// Counted into its window; nothing to append now.
    Counted,
}

struct Window<T> {
    opened: Instant,
    appended: u32,
    counted: u64,
    last: Option<T>,
}

/// The windows of refusals, per user and action; `T` is what a summary entry needs.
pub struct RefusalCounter<T> {
    windows: Mutex<HashMap<(String, &'static str), Window<T>>>,
}

impl<T> Default for RefusalCounter<T> {
    fn default() -> Self {
        Self {
            windows: Mutex::new(HashMap::new()),
        }
    }
}

impl<T> RefusalCounter<T> {
    /// A refusal of `action` to `user` at `now`; `record` is what its entry would say.
    pub fn refused(&self, user: &str, action: &'static str, record: T, now: Instant) -> Refusal<T> {
        let Ok(mut windows) = self.windows.lock() else {
            // A poisoned lock loses no refusal: append it.
            return Refusal::Append {
                summaries: Vec::new(),
            };
        };
        let mut summaries = Vec::new();
        let key = (user.to_owned(), action);
        if windows
            .get(&key)
            .is_some_and(|w| now.duration_since(w.opened) >= REFUSAL_WINDOW)
            && let Some(closed) = windows.remove(&key)
            && let (Some(last), true) = (closed.last, closed.counted > 0)
        {
            summaries.push((last, closed.counted));
        }
        if windows.len() >= MAX_WINDOWS {
            summaries.extend(Self::close_expired(&mut windows, now, true));
        }
        let window = windows.entry(key).or_insert(Window {
            opened: now,
            appended: 0,
            counted: 0,
            last: None,
        });
        if window.appended < APPENDED_PER_WINDOW {
            window.appended += 1;
            Refusal::Append { summaries }
        } else {
            window.counted += 1;
            window.last = Some(record);
            if summaries.is_empty() {
                Refusal::Counted
            } else {
                // Summaries of other windows, closed to make room: appended now.
                Refusal::Append { summaries }
            }
        }
    }

    /// Closes the windows that have ended (every window with `all`, at shutdown) and returns
    /// their summaries.
    pub fn close(&self, now: Instant, all: bool) -> Vec<(T, u64)> {
        match self.windows.lock() {
            Ok(mut windows) => Self::close_expired(&mut windows, now, all),
            Err(_) => Vec::new(),
        }
    }

    fn close_expired(
        windows: &mut HashMap<(String, &'static str), Window<T>>,
        now: Instant,
        all: bool,
    ) -> Vec<(T, u64)> {
        let ended: Vec<_> = windows
            .iter()
            .filter(|(_, w)| all || now.duration_since(w.opened) >= REFUSAL_WINDOW)
            .map(|(k, _)| k.clone())
            .collect();
        ended
            .into_iter()
            .filter_map(|k| windows.remove(&k))
            .filter_map(|w| {
                w.last
                    .filter(|_| w.counted > 0)
                    .map(|last| (last, w.counted))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_refusals_are_appended_the_rest_counted_into_one_summary() {
        let counter = RefusalCounter::default();
        let t0 = Instant::now();
        let mut appended = 0;
        for n in 0..50 {
            match counter.refused("u", "case.read", n, t0) {
                Refusal::Append { summaries } => {
                    assert!(summaries.is_empty());
                    appended += 1;
                }
                Refusal::Counted => {}
            }
        }
        assert_eq!(appended, APPENDED_PER_WINDOW);
        // Another action or another user has its own window.
        assert!(matches!(
            counter.refused("u", "case.share", 0, t0),
            Refusal::Append { .. }
        ));
        assert!(matches!(
            counter.refused("v", "case.read", 0, t0),
            Refusal::Append { .. }
        ));
        // Not yet over: nothing to sum up.
        assert!(counter.close(t0 + Duration::from_secs(1), false).is_empty());
        // The next refusal after the window: the summary (the last one, standing for 45), then it.
        let later = t0 + REFUSAL_WINDOW;
        assert_eq!(
            counter.refused("u", "case.read", 99, later),
            Refusal::Append {
                summaries: vec![(49, 45)]
            }
        );
        // At shutdown every window is closed; windows with nothing counted sum up nothing.
        for n in 0..10 {
            let _ = counter.refused("w", "log.read", n, later);
        }
        assert_eq!(counter.close(later, true), vec![(9, 5)]);
        assert!(counter.close(later, true).is_empty());
    }
}
