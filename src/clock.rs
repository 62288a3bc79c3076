//! The clock (ground floor): Unix time, and the one conversion from a configured
//! `std::time::Duration` to the `time` crate's, which tower-sessions' expiry takes.

/// Unix time in seconds.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Unix time in milliseconds. // INSPECTOR
#[cfg(feature = "inspector")] // INSPECTOR
pub fn now_ms() -> i64 {
    // INSPECTOR
    let now = time::OffsetDateTime::now_utc(); // INSPECTOR
    i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX) // INSPECTOR
} // INSPECTOR

/// Whole seconds of `duration` as an `i64`, saturating (a configured lifetime never wraps).
pub fn seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// `duration` as a `time::Duration`, to the second, saturating.
pub fn to_time(duration: std::time::Duration) -> time::Duration {
    time::Duration::seconds(seconds(duration))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn durations_convert_to_the_second_and_saturate() {
        assert_eq!(seconds(Duration::from_millis(90_999)), 90);
        assert_eq!(seconds(Duration::MAX), i64::MAX);
        assert_eq!(to_time(Duration::from_secs(3600)), time::Duration::hours(1));
        assert_eq!(to_time(Duration::MAX), time::Duration::seconds(i64::MAX));
    }

    #[cfg(feature = "inspector")] // INSPECTOR
    #[test] // INSPECTOR
    fn milliseconds_follow_seconds() {
        // INSPECTOR
        let (s, ms) = (now(), now_ms()); // INSPECTOR
        assert!((ms / 1000 - s).abs() <= 1, "{s} {ms}"); // INSPECTOR
    } // INSPECTOR
}
