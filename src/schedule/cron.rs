//! Users' cron expressions, validated and evaluated with the `cron` crate.
//!
//! [`Schedule::parse`] promises that a schedule which parses fires at least once, and that a
//! five-field expression fires exactly when Vixie cron / cronie would fire it. Facts about
//! `cron` 0.17.0 that this module is built on, checked against its source
//! (`src/parsing.rs`, `src/schedule.rs`, `src/queries.rs`, `src/time_unit/`) and pinned by the
//! `crate_*` tests below so that an upgrade which changes them fails loudly:
//!
//! - It parses 6 or 7 whitespace-separated fields, seconds first and an optional year last
//!   (1970-2100), plus the `@hourly`/`@daily`/`@weekly`/`@monthly`/`@yearly` shorthands. Five
//!   fields are rejected (the day-of-week field is missing).
//! - Day-of-week ordinals are 1-7 with 1 = Sunday and 7 = Saturday; 0 is an error and so is 8.
//!   Names (`SUN`, `Mon`, `tues`, `Thursday`…) are accepted in any case.
//! - When day-of-month and day-of-week are both restricted, a day must match BOTH (the
//!   day-of-month iterator is filtered by day-of-week unless day-of-week covers all seven days).
//! - `next` after an instant is strictly after it: the search starts one second later.
//! - A named point cannot take a step (`MON/2` is an error) and a range must not run backwards
//!   (`FRI-SUN` is an error); a step larger than the field's maximum (`*/60` minutes) is an error.
//! - Its error texts are multi-line (expression, caret, reason) and sometimes have no reason.
//!
//! Five-field expressions (`min hour dom mon dow`, dow 0-7 with 0 and 7 = Sunday, names allowed
//! in month and day-of-week) are translated: seconds `0` is prepended and every restricted field
//! is expanded into an explicit list (days of the week as names), which sidesteps the numbering
//! difference, backwards named ranges and step limits. Edge cases a reader would not guess:
//!
//! - Vixie's OR rule: if day-of-month and day-of-week are both restricted, the expression fires on
//!   days matching EITHER; this becomes two crate schedules whose earliest next time wins. As in
//!   Vixie cron, a field that *begins* with `*` (`*/2`) counts as unrestricted here, so
//!   `0 0 */2 * 1` means "odd days that are also Mondays" (AND), not OR.
//! - `N/step` means `N-max/step` (cronie's reading); `?` is taken as `*`.
//! - 6- and 7-field expressions get the crate's semantics unchanged: day-of-week 1 = Sunday and
//!   AND between day fields. Only five-field input is Vixie.
//! - `@midnight` and `@annually` are accepted as aliases; `@reboot` is rejected.
//! - An expression that can never fire (`0 0 30 2 *`) is rejected at parse time.
//! - In a zone with daylight saving, a wall time that occurs twice fires twice and one that does
//!   not occur is skipped (the crate's behaviour); China has no DST, so portals are unaffected.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

/// A validated schedule: one or two `cron::Schedule`s whose union is the user's expression.
#[derive(Debug, Clone)]
pub struct Schedule {
    source: String,
    parts: Vec<::cron::Schedule>,
}

/// Why an expression was rejected, as a lower-case sentence naming the culprit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronError(pub String);

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CronError {}

/// How many consecutive gaps [`Schedule::min_interval`] looks at: enough to cross a weekend
/// for weekday schedules and a short month for monthly ones.
const INTERVAL_SAMPLES: usize = 32;

impl Schedule {
    /// Accepts 5-field Vixie cron (translated), and 6- or 7-field expressions with seconds first
    /// (passed to the crate as written). Also the @hourly/@daily/@weekly/@monthly/@yearly macros.
    pub fn parse(expr: &str) -> Result<Schedule, CronError> {
        let trimmed = expr.trim();
        if trimmed.is_empty() {
            return Err(CronError("empty cron expression".into()));
        }
        let parts = if let Some(name) = trimmed.strip_prefix('@') {
            translate_vixie(expand_macro(name)?)?
        } else {
            let fields: Vec<&str> = trimmed.split_whitespace().collect();
            match fields.len() {
                5 => translate_vixie(&fields.join(" "))?,
                6 | 7 => vec![crate_schedule(trimmed)?],
                n => {
                    return Err(CronError(format!(
                        "expected 5 fields (minute hour day-of-month month day-of-week) \
                         or 6-7 fields with seconds first, found {n} in {trimmed:?}"
                    )));
                }
            }
        };
        let schedule = Schedule {
            source: expr.to_owned(),
            parts,
        };
        // The crate's earliest year, so a 7-field expression naming a past year still passes.
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        if schedule.next_after(epoch, chrono_tz::UTC).is_none() {
            return Err(CronError(format!("{trimmed:?} never fires")));
        }
        Ok(schedule)
    }

    /// The next fire time strictly after `after`, evaluated in `tz`, returned in UTC.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = within_crate_years(after)?.with_timezone(&tz);
        self.parts
            .iter()
            .filter_map(|part| part.after(&local).next())
            .min()
            .map(|at| at.with_timezone(&Utc))
    }

    /// The shortest gap between two consecutive fire times over the next few occurrences (used
    /// for a feed's ttl and for backoff caps).
    pub fn min_interval(&self, tz: Tz) -> Option<Duration> {
        self.min_interval_from(Utc::now(), tz)
    }

    /// The expression as the user wrote it (for display).
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// `None` when fewer than two occurrences remain (e.g. a 7-field expression's last year).
    fn min_interval_from(&self, start: DateTime<Utc>, tz: Tz) -> Option<Duration> {
        let mut prev = self.next_after(start, tz)?;
        let mut shortest: Option<chrono::TimeDelta> = None;
        for _ in 0..INTERVAL_SAMPLES {
            let Some(next) = self.next_after(prev, tz) else {
                break;
            };
            let gap = next - prev;
            shortest = Some(shortest.map_or(gap, |s| s.min(gap)));
            prev = next;
        }
        shortest.and_then(|gap| gap.to_std().ok())
    }
}

/// The crate only searches years 1970-2100 and adds a second to `after` unchecked (which
/// panics at chrono's limits), so earlier instants are moved to just before 1970 and later
/// ones have no next time.
fn within_crate_years(after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    match after.year() {
        year if year > 2100 => None,
        year if year < 1970 => DateTime::from_timestamp(-86_400, 0),
        _ => Some(after),
    }
}

fn expand_macro(name: &str) -> Result<&'static str, CronError> {
    match name.to_ascii_lowercase().as_str() {
        "hourly" => Ok("0 * * * *"),
        "daily" | "midnight" => Ok("0 0 * * *"),
        "weekly" => Ok("0 0 * * 0"),
        "monthly" => Ok("0 0 1 * *"),
        "yearly" | "annually" => Ok("0 0 1 1 *"),
        "reboot" => Err(CronError(
            "@reboot is not supported: a schedule needs times".into(),
        )),
        _ => Err(CronError(format!(
            "unknown macro @{name} (expected @hourly, @daily, @weekly, @monthly or @yearly)"
        ))),
    }
}

fn crate_schedule(expr: &str) -> Result<::cron::Schedule, CronError> {
    ::cron::Schedule::from_str(expr).map_err(|e| {
        // The crate's text repeats the expression and draws a caret; only its last line says why.
        let text = e.to_string();
        let reason = text
            .lines()
            .map(str::trim)
            .rfind(|line| !line.is_empty() && *line != expr.trim() && *line != "^")
            .map(lower_first);
        match reason {
            Some(reason) => CronError(format!("invalid expression {expr:?}: {reason}")),
            None => CronError(format!("invalid expression {expr:?}")),
        }
    })
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// One field of a five-field expression: its name in messages, its bounds and accepted names.
struct Spec {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
}

const MINUTE: Spec = Spec {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
};
const HOUR: Spec = Spec {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
};
const DAY_OF_MONTH: Spec = Spec {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
};
const MONTH: Spec = Spec {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
};
const DAY_OF_WEEK: Spec = Spec {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
};
const WEEKDAY_NAMES: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// A parsed field: the values it selects, and whether it began with `*` (Vixie's OR-rule test).
struct Field {
    values: BTreeSet<u32>,
    starred: bool,
}

fn translate_vixie(expr: &str) -> Result<Vec<::cron::Schedule>, CronError> {
    let texts: Vec<&str> = expr.split_whitespace().collect();
    let [min, hour, dom, month, dow] = texts.as_slice() else {
        return Err(CronError(format!("expected 5 fields in {expr:?}")));
    };
    let min = list_or_star(&parse_field(min, &MINUTE)?, &MINUTE, number);
    let hour = list_or_star(&parse_field(hour, &HOUR)?, &HOUR, number);
    let month = list_or_star(&parse_field(month, &MONTH)?, &MONTH, number);
    let dom_field = parse_field(dom, &DAY_OF_MONTH)?;
    let mut dow_field = parse_field(dow, &DAY_OF_WEEK)?;
    // Vixie's 7 is another Sunday; folding it keeps "all seven days" detectable below.
    if dow_field.values.remove(&7) {
        dow_field.values.insert(0);
    }
    let dom = list_or_star(&dom_field, &DAY_OF_MONTH, number);
    let dow_spec = Spec {
        max: 6,
        ..DAY_OF_WEEK
    };
    let dow = list_or_star(&dow_field, &dow_spec, weekday_name);

    let build =
        |dom: &str, dow: &str| crate_schedule(&format!("0 {min} {hour} {dom} {month} {dow}"));
    if dom_field.starred || dow_field.starred {
        Ok(vec![build(&dom, &dow)?])
    } else {
        Ok(vec![build(&dom, "*")?, build("*", &dow)?])
    }
}

fn number(value: u32) -> String {
    value.to_string()
}

fn weekday_name(value: u32) -> String {
    let index = usize::try_from(value).unwrap_or(usize::MAX);
    WEEKDAY_NAMES
        .get(index)
        .copied()
        .unwrap_or("SUN")
        .to_owned()
}

fn list_or_star(field: &Field, spec: &Spec, render: fn(u32) -> String) -> String {
    let full = (spec.min..=spec.max).all(|v| field.values.contains(&v));
    if full {
        return "*".into();
    }
    let items: Vec<String> = field.values.iter().map(|&v| render(v)).collect();
    items.join(",")
}

fn parse_field(text: &str, spec: &Spec) -> Result<Field, CronError> {
    let mut values = BTreeSet::new();
    for item in text.split(',') {
        if item.is_empty() {
            return Err(CronError(format!(
                "{} field {text:?} has an empty list item",
                spec.name
            )));
        }
        parse_item(item, spec, &mut values)?;
    }
    Ok(Field {
        values,
        starred: text.starts_with('*') || text == "?",
    })
}

/// One list item: `*`, `N`, `A-B`, each optionally followed by `/step`.
fn parse_item(item: &str, spec: &Spec, values: &mut BTreeSet<u32>) -> Result<(), CronError> {
    let (base, step) = match item.split_once('/') {
        None => (item, None),
        Some((base, step)) => (base, Some(parse_step(step, spec)?)),
    };
    let (first, last) = if base == "*" || base == "?" {
        (spec.min, spec.max)
    } else if let Some((a, b)) = base.split_once('-') {
        let (first, last) = (parse_value(a, spec)?, parse_value(b, spec)?);
        if first > last {
            return Err(CronError(format!(
                "{} range {base} runs backwards",
                spec.name
            )));
        }
        (first, last)
    } else {
        let value = parse_value(base, spec)?;
        (value, if step.is_some() { spec.max } else { value })
    };
    let step = usize::try_from(step.unwrap_or(1)).unwrap_or(usize::MAX);
    values.extend((first..=last).step_by(step));
    Ok(())
}

fn parse_step(text: &str, spec: &Spec) -> Result<u32, CronError> {
    match text.parse::<u32>() {
        Ok(step) if step >= 1 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(step),
        _ => Err(CronError(format!(
            "{} step {text:?} must be a whole number of at least 1",
            spec.name
        ))),
    }
}

fn parse_value(text: &str, spec: &Spec) -> Result<u32, CronError> {
    let lower = text.to_ascii_lowercase();
    if let Some(index) = spec.names.iter().position(|name| *name == lower) {
        // Month names count from 1 (jan) and weekday names from 0 (sun), i.e. from the minimum.
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        return Ok(spec.min.saturating_add(index));
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CronError(format!(
            "{} {text:?} is not a number{}",
            spec.name,
            if spec.names.is_empty() {
                ""
            } else {
                " or a name"
            }
        )));
    }
    match text.parse::<u32>() {
        Ok(value) if (spec.min..=spec.max).contains(&value) => Ok(value),
        _ => Err(CronError(format!(
            "{} {text} is out of range {}-{}",
            spec.name, spec.min, spec.max
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;
    use proptest::prelude::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("bad test time {text}: {e}"))
    }

    fn parsed(expr: &str) -> Schedule {
        Schedule::parse(expr).unwrap_or_else(|e| panic!("{expr:?} should parse: {e}"))
    }

    /// The first `n` fire times after `start`, as RFC 3339 UTC strings.
    fn fires(expr: &str, start: &str, tz: Tz, n: usize) -> Vec<String> {
        let schedule = parsed(expr);
        let mut at = utc(start);
        let mut out = Vec::new();
        for _ in 0..n {
            let Some(next) = schedule.next_after(at, tz) else {
                break;
            };
            out.push(next.to_rfc3339());
            at = next;
        }
        out
    }

    #[test]
    fn five_field_expressions_fire_when_vixie_cron_would() {
        // 2024-03-04 is a Monday; 2024-03-01 a Friday.
        let cases: &[(&str, &str, Tz, &[&str])] = &[
            (
                "*/20 * * * *",
                "2024-03-04T10:05:00Z",
                chrono_tz::UTC,
                &[
                    "2024-03-04T10:20:00+00:00",
                    "2024-03-04T10:40:00+00:00",
                    "2024-03-04T11:00:00+00:00",
                ],
            ),
            (
                "0 8 * * 1",
                "2024-03-01T00:00:00Z",
                Shanghai,
                &["2024-03-04T00:00:00+00:00", "2024-03-11T00:00:00+00:00"],
            ),
            (
                "0 8 * * 0",
                "2024-03-04T00:00:00Z",
                Shanghai,
                &["2024-03-10T00:00:00+00:00"],
            ),
            (
                "0 8 * * 7",
                "2024-03-04T00:00:00Z",
                Shanghai,
                &["2024-03-10T00:00:00+00:00"],
            ),
            (
                "0 8 * * 1-5",
                "2024-03-08T01:00:00Z",
                Shanghai,
                &["2024-03-11T00:00:00+00:00", "2024-03-12T00:00:00+00:00"],
            ),
            (
                "0 0 1 * 1",
                "2024-03-26T00:00:00Z",
                chrono_tz::UTC,
                &[
                    "2024-04-01T00:00:00+00:00",
                    "2024-04-08T00:00:00+00:00",
                    "2024-04-15T00:00:00+00:00",
                    "2024-04-22T00:00:00+00:00",
                    "2024-04-29T00:00:00+00:00",
                    "2024-05-01T00:00:00+00:00",
                    "2024-05-06T00:00:00+00:00",
                ],
            ),
            (
                "0 0 */2 * 1",
                "2024-03-01T00:00:00Z",
                chrono_tz::UTC,
                &["2024-03-11T00:00:00+00:00", "2024-03-25T00:00:00+00:00"],
            ),
            (
                "0 9 * * 5-7",
                "2024-03-04T00:00:00Z",
                chrono_tz::UTC,
                &[
                    "2024-03-08T09:00:00+00:00",
                    "2024-03-09T09:00:00+00:00",
                    "2024-03-10T09:00:00+00:00",
                ],
            ),
            (
                "0 9 * * mon,Fri",
                "2024-03-04T10:00:00Z",
                chrono_tz::UTC,
                &["2024-03-08T09:00:00+00:00", "2024-03-11T09:00:00+00:00"],
            ),
            (
                "0 0 * * */3",
                "2024-03-04T00:00:00Z",
                chrono_tz::UTC,
                &[
                    "2024-03-06T00:00:00+00:00",
                    "2024-03-09T00:00:00+00:00",
                    "2024-03-10T00:00:00+00:00",
                ],
            ),
            (
                "30 6 1 jan-mar *",
                "2024-01-05T00:00:00Z",
                chrono_tz::UTC,
                &[
                    "2024-02-01T06:30:00+00:00",
                    "2024-03-01T06:30:00+00:00",
                    "2025-01-01T06:30:00+00:00",
                ],
            ),
            (
                "@weekly",
                "2024-03-04T00:00:00Z",
                chrono_tz::UTC,
                &["2024-03-10T00:00:00+00:00"],
            ),
            (
                "@hourly",
                "2024-03-04T00:00:00Z",
                chrono_tz::UTC,
                &["2024-03-04T01:00:00+00:00"],
            ),
            (
                "@Daily",
                "2024-03-04T00:00:00Z",
                Shanghai,
                &["2024-03-04T16:00:00+00:00"],
            ),
            (
                "@monthly",
                "2024-03-04T00:00:00Z",
                chrono_tz::UTC,
                &["2024-04-01T00:00:00+00:00"],
            ),
            (
                "@yearly",
                "2024-03-04T00:00:00Z",
                chrono_tz::UTC,
                &["2025-01-01T00:00:00+00:00"],
            ),
        ];
        for (expr, start, tz, want) in cases {
            assert_eq!(fires(expr, start, *tz, want.len()), *want, "{expr}");
        }
    }

    #[test]
    fn seconds_first_expressions_are_passed_through() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "*/5 * * * * *",
                "2024-03-04T10:00:03Z",
                &[
                    "2024-03-04T10:00:05+00:00",
                    "2024-03-04T10:00:10+00:00",
                    "2024-03-04T10:00:15+00:00",
                ],
            ),
            // The crate's own numbering: 2 = Monday.
            (
                "0 0 8 * * 2",
                "2024-03-01T00:00:00Z",
                &["2024-03-04T08:00:00+00:00"],
            ),
            (
                "0 0 0 1 1 * 2030",
                "2024-03-01T00:00:00Z",
                &["2030-01-01T00:00:00+00:00"],
            ),
        ];
        for (expr, start, want) in cases {
            assert_eq!(
                fires(expr, start, chrono_tz::UTC, want.len()),
                *want,
                "{expr}"
            );
        }
    }

    #[test]
    fn next_after_is_strictly_after() {
        let s = parsed("0 8 * * *");
        let at = utc("2024-03-04T08:00:00Z");
        assert_eq!(
            s.next_after(at, chrono_tz::UTC),
            Some(utc("2024-03-05T08:00:00Z"))
        );
        let just_before = at - chrono::TimeDelta::milliseconds(1);
        assert_eq!(s.next_after(just_before, chrono_tz::UTC), Some(at));
    }

    #[test]
    fn instants_outside_the_crates_years_do_not_panic() {
        let s = parsed("0 8 * * *");
        assert_eq!(s.next_after(DateTime::<Utc>::MAX_UTC, Shanghai), None);
        assert_eq!(
            s.next_after(utc("2100-12-31T08:00:00Z"), chrono_tz::UTC),
            None
        );
        assert_eq!(
            s.next_after(DateTime::<Utc>::MIN_UTC, chrono_tz::America::New_York),
            Some(utc("1970-01-01T13:00:00Z"))
        );
    }

    #[test]
    fn bad_expressions_are_rejected_with_a_message_naming_the_problem() {
        let cases = [
            ("61 * * * *", "minute 61 is out of range 0-59"),
            ("* * * * 8", "day-of-week 8 is out of range 0-7"),
            ("* 24 * * *", "hour 24 is out of range 0-23"),
            ("* * 0 * *", "day-of-month 0 is out of range 1-31"),
            ("* * * 13 *", "month 13 is out of range 1-12"),
            ("* * *", "expected 5 fields"),
            ("", "empty cron expression"),
            ("   ", "empty cron expression"),
            ("banana", "found 1"),
            (
                "*/0 * * * *",
                "minute step \"0\" must be a whole number of at least 1",
            ),
            (
                "* * * * banana",
                "day-of-week \"banana\" is not a number or a name",
            ),
            ("x * * * *", "minute \"x\" is not a number"),
            ("5-1 * * * *", "minute range 5-1 runs backwards"),
            ("1,,2 * * * *", "empty list item"),
            ("0 0 30 2 *", "never fires"),
            ("@reboot", "@reboot is not supported"),
            ("@fortnightly", "unknown macro @fortnightly"),
            (
                "61 * * * * *",
                "invalid expression \"61 * * * * *\": seconds must be less than 59",
            ),
            ("* * * * * 0", "invalid expression"),
            (
                "99999999999 * * * *",
                "minute 99999999999 is out of range 0-59",
            ),
        ];
        for (expr, want) in cases {
            match Schedule::parse(expr) {
                Ok(_) => panic!("{expr:?} should be rejected"),
                Err(CronError(message)) => {
                    assert!(
                        message.contains(want),
                        "{expr:?}: {message:?} lacks {want:?}"
                    );
                    assert!(!message.contains('\n'), "{expr:?}: multi-line {message:?}");
                }
            }
        }
    }

    #[test]
    fn as_str_returns_the_expression_as_written() {
        assert_eq!(parsed("  0 8 * * 1 ").as_str(), "  0 8 * * 1 ");
        assert_eq!(parsed("@daily").as_str(), "@daily");
    }

    #[test]
    fn min_interval_is_the_shortest_gap_between_fires() {
        let start = utc("2024-03-04T10:05:00Z");
        let cases = [
            ("*/20 * * * *", Some(20 * 60)),
            ("*/5 * * * * *", Some(5)),
            ("0 8 * * 1-5", Some(24 * 3600)),
            ("0 8,9 * * *", Some(3600)),
            ("0 0 0 1 1 * 2030", None),
        ];
        for (expr, want) in cases {
            let got = parsed(expr).min_interval_from(start, Shanghai);
            assert_eq!(got, want.map(Duration::from_secs), "{expr}");
        }
        assert_eq!(
            parsed("*/20 * * * *").min_interval(Shanghai),
            Some(Duration::from_secs(20 * 60))
        );
    }

    // The crate_* tests pin the facts the module doc states about `cron` 0.17.

    #[test]
    fn crate_numbers_days_of_week_from_sunday_as_one() {
        let sunday = ::cron::Schedule::from_str("0 0 0 * * 1")
            .map(|s| s.after(&utc("2024-03-04T00:00:00Z")).next());
        assert_eq!(sunday.ok().flatten(), Some(utc("2024-03-10T00:00:00Z")));
        assert!(::cron::Schedule::from_str("0 0 0 * * 0").is_err());
        assert!(::cron::Schedule::from_str("0 0 0 * * 8").is_err());
    }

    #[test]
    fn crate_requires_both_day_fields_to_match() {
        // The 1st that is a Monday (crate's 2): 2024-04-01, skipping the Mondays in between.
        let next = ::cron::Schedule::from_str("0 0 0 1 * 2")
            .map(|s| s.after(&utc("2024-03-02T00:00:00Z")).next());
        assert_eq!(next.ok().flatten(), Some(utc("2024-04-01T00:00:00Z")));
    }

    #[test]
    fn crate_rejects_five_fields() {
        assert!(::cron::Schedule::from_str("0 8 * * 1").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(expr in "\\PC{0,40}") {
            let _ = Schedule::parse(&expr);
        }

        #[test]
        fn next_after_never_panics(secs in any::<i64>(), expr in "(\\*/7|0 8) \\* \\* \\* \\*") {
            if let Some(after) = DateTime::from_timestamp(secs, 0) {
                let _ = parsed(&expr).next_after(after, chrono_tz::America::New_York);
                let _ = parsed(&expr).next_after(after, chrono_tz::Pacific::Kiritimati);
            }
        }

        #[test]
        fn parse_never_panics_on_cron_like_text(expr in "[-0-9*/,?a-zA-Z@ ]{0,30}") {
            if let Ok(s) = Schedule::parse(&expr) {
                let _ = s.next_after(utc("2024-03-04T00:00:00Z"), Shanghai);
            }
        }
    }
}
