//! When the daemon polls a source next: its cron ticks, a per-source jitter, catching up after a
//! stop, and backing off after failures. Pure functions of the schedule and the time, so they are
//! tested without waiting.
//!
//! - Jitter: every due time is shifted by a fixed fraction (from a hash of the source id) of a tenth
//!   of the interval, at most a minute. Sources of one host that share a schedule then start apart,
//!   and a source's rhythm stays regular from poll to poll and across restarts.
//! - Catching up: at start, a source whose last poll is older than its interval (or that was never
//!   polled) is due at once (plus its jitter); otherwise at its next tick.
//! - Backoff: after `n` failures in a row, `2^(n-1) - 1` ticks are skipped, but never more than an
//!   hour's worth; the first success returns the source to its rhythm.

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use super::cron::Schedule;

/// The longest a failing source waits between two tries (unless its own interval is longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// The largest jitter.
const MAX_JITTER: Duration = Duration::from_secs(60);

/// A source's timing.
#[derive(Debug, Clone)]
pub struct Clock {
    schedule: Schedule,
    tz: Tz,
    interval: Duration,
    jitter: Duration,
}

impl Clock {
    pub fn new(source_id: &str, schedule: &Schedule, tz: Tz) -> Clock {
        let interval = schedule
            .min_interval(tz)
            .unwrap_or(Duration::from_secs(3600));
        Clock {
            schedule: schedule.clone(),
            tz,
            interval,
            jitter: jitter(source_id, interval),
        }
    }

    /// The shortest gap between two ticks.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// This source's fixed shift of every due time.
    pub fn jitter(&self) -> Duration {
        self.jitter
    }

    /// When to poll first after a start, given when the source was last polled.
    pub fn first_due(&self, last_poll: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
        let stale =
            last_poll.is_none_or(|last| (now - last).to_std().unwrap_or_default() >= self.interval);
        if stale {
            now + chrono_duration(self.jitter)
        } else {
            self.tick_after(now)
        }
    }

    /// The next due time after a poll that ended at `now`, `failures` being the failed polls in a
    /// row (0 after a success).
    pub fn next_due(&self, failures: u32, now: DateTime<Utc>) -> DateTime<Utc> {
        self.tick_after(now + chrono_duration(self.backoff(failures)))
    }

    /// The first due time at or after `at` (e.g. the end of a host's pause).
    pub fn due_after(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.tick_after(at)
    }

    /// How long past its next tick a source with `failures` failures in a row waits.
    pub fn backoff(&self, failures: u32) -> Duration {
        if failures <= 1 {
            return Duration::ZERO;
        }
        let skipped = (1u64 << (failures - 1).min(20)) - 1;
        let cap = MAX_BACKOFF.max(self.interval);
        let wanted = self
            .interval
            .saturating_mul(u32::try_from(skipped).unwrap_or(u32::MAX));
        wanted.min(cap.saturating_sub(self.interval))
    }

    /// The first tick strictly after `at`, shifted by the jitter.
    fn tick_after(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        // A tick whose jittered time is still ahead counts: look from `at - jitter`.
        let from = at - chrono_duration(self.jitter);
        match self.schedule.next_after(from, self.tz) {
            Some(t) => t + chrono_duration(self.jitter),
            // A schedule that never fires again (a past 7-field year): look again in a day.
            None => at + chrono::Duration::days(1),
        }
    }
}

/// A fixed fraction of `min(interval / 10, 1 min)`, from a hash of the source id.
fn jitter(source_id: &str, interval: Duration) -> Duration {
    let span = (interval / 10).min(MAX_JITTER);
    let digest = Sha256::digest(source_id.as_bytes());
    let fraction = f64::from(u16::from_be_bytes([digest[0], digest[1]])) / 65536.0;
    span.mul_f64(fraction)
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn clock(id: &str, expr: &str) -> Clock {
        let s = Schedule::parse(expr).expect("valid cron");
        Clock::new(id, &s, chrono_tz::Asia::Shanghai)
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, h, m, s)
            .single()
            .expect("valid time")
    }

    #[test]
    fn jitter_is_at_most_a_tenth_of_the_interval_and_a_minute() {
        for id in ["leadership", "headlines", "a", "b", "c-1", "news"] {
            let c = clock(id, "*/20 * * * *");
            assert!(
                c.jitter() <= Duration::from_secs(60),
                "{id}: {:?}",
                c.jitter()
            );
            let c = clock(id, "*/10 * * * * *");
            assert!(
                c.jitter() <= Duration::from_secs(1),
                "{id}: {:?}",
                c.jitter()
            );
        }
    }

    #[test]
    fn jitter_differs_between_sources_and_is_stable() {
        let a = clock("headlines", "0 * * * *").jitter();
        let b = clock("leadership", "0 * * * *").jitter();
        assert_ne!(a, b);
        assert_eq!(a, clock("headlines", "0 * * * *").jitter());
    }

    #[test]
    fn never_polled_source_is_due_at_once() {
        let c = clock("x", "*/20 * * * *");
        let now = at(1, 5, 0);
        assert_eq!(c.first_due(None, now), now + chrono_duration(c.jitter()));
    }

    #[test]
    fn source_polled_longer_ago_than_its_interval_is_due_at_once() {
        let c = clock("x", "*/20 * * * *");
        let now = at(1, 5, 0);
        let due = c.first_due(Some(now - chrono::Duration::minutes(25)), now);
        assert_eq!(due, now + chrono_duration(c.jitter()));
    }

    #[test]
    fn recently_polled_source_waits_for_its_next_tick() {
        let c = clock("x", "*/20 * * * *");
        let now = at(1, 5, 0);
        let due = c.first_due(Some(now - chrono::Duration::minutes(3)), now);
        assert_eq!(due, at(1, 20, 0) + chrono_duration(c.jitter()));
    }

    #[test]
    fn success_goes_to_the_next_tick() {
        let c = clock("x", "*/20 * * * *");
        let due = c.next_due(0, at(1, 20, 30));
        assert_eq!(due, at(1, 40, 0) + chrono_duration(c.jitter()));
    }

    #[test]
    fn a_poll_ending_inside_its_jitter_window_does_not_skip_a_tick() {
        let c = clock("x", "*/20 * * * *");
        // Due at 01:20 + jitter; ends just before that moment: the next is that same tick.
        let ends = at(1, 20, 0);
        let due = c.next_due(0, ends);
        assert!(due > ends);
        assert!(due <= at(1, 40, 0) + chrono_duration(c.jitter()));
    }

    #[test]
    fn failures_skip_exponentially_more_ticks() {
        let c = clock("x", "*/5 * * * *");
        assert_eq!(c.backoff(1), Duration::ZERO);
        assert_eq!(c.backoff(2), Duration::from_secs(300));
        assert_eq!(c.backoff(3), Duration::from_secs(900));
        assert_eq!(c.backoff(4), Duration::from_secs(2100));
    }

    #[test]
    fn backoff_is_capped_at_an_hour() {
        let c = clock("x", "*/5 * * * *");
        for n in 5..40 {
            let wait = c.backoff(n) + c.interval();
            assert!(wait <= MAX_BACKOFF, "{n} failures: {wait:?}");
        }
        let now = at(1, 0, 0);
        assert!(c.next_due(30, now) - now <= chrono::Duration::minutes(61));
    }

    #[test]
    fn a_daily_source_is_never_polled_more_often_than_daily_when_failing() {
        let c = clock("x", "0 8 * * *");
        assert_eq!(c.backoff(9), Duration::ZERO.max(c.backoff(9)));
        let now = at(1, 0, 0);
        assert!(c.next_due(9, now) - now <= chrono::Duration::hours(25));
        assert!(c.next_due(9, now) > now);
    }

    #[test]
    fn second_level_schedules_work() {
        let c = clock("x", "*/2 * * * * *");
        assert_eq!(c.interval(), Duration::from_secs(2));
        let now = at(1, 0, 1);
        let due = c.next_due(0, now);
        assert!(due > now && due - now <= chrono::Duration::milliseconds(2200));
    }
}
