//! The node's clock, the one place Scellé asks what time it is.
//!
//! Log entries carry the time the node recorded them (RFC 3339, UTC, microseconds); expiries
//! and retention compare Unix seconds. A clock that cannot be read or formatted is an error,
//! never a silent 1970.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The time source a node's use cases and its sequencer read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    _private: (),
}

/// The clock's time could not be written as RFC 3339 (a year beyond 9999).
#[derive(Debug, thiserror::Error)]
#[error("the clock's time cannot be written as RFC 3339: {0}")]
pub struct ClockError(String);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { _private: () }
    }

    /// Now.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    /// Now in whole Unix seconds.
    pub fn unix_now(&self) -> i64 {
        self.now().unix_timestamp()
    }

    /// Now as RFC 3339 in UTC, to the microsecond: what a log entry's `time` holds.
    pub fn now_rfc3339(&self) -> Result<String, ClockError> {
        let now = self.now();
        let now = now
            .replace_nanosecond(now.nanosecond() / 1000 * 1000)
            .unwrap_or(now);
        now.format(&Rfc3339).map_err(|e| ClockError(e.to_string()))
    }
}

/// How far ahead of the node's clock a time an officer records may be (their device's clock may
/// run fast): beyond it, the time is refused as in the future.
pub const CLOCK_SKEW_SECONDS: i64 = 5 * 60;

impl Clock {
    /// Whether an RFC 3339 time lies beyond now and the allowed skew.
    pub fn is_future(&self, time: &str) -> bool {
        unix_of(time).is_some_and(|t| t > self.unix_now() + CLOCK_SKEW_SECONDS)
    }
}

/// Unix seconds of an RFC 3339 time, if it is one.
pub fn unix_of(time: &str) -> Option<i64> {
    OffsetDateTime::parse(time, &Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc_to_the_microsecond() {
        let text = Clock::system().now_rfc3339().unwrap();
        assert!(text.ends_with('Z'), "{text}");
        let fraction = text.split('.').nth(1).unwrap_or_default();
        assert!(fraction.len() <= 7, "{text}");
        assert!(unix_of(&text).unwrap() > 1_700_000_000);
        assert_eq!(unix_of("not a time"), None);
    }
}
