//! Dates written on Chinese government pages and in their URLs.
//!
//! [`parse_date`] returns the first plausible date in a piece of page text, reading
//! `2024-03-05`, `2024/3/5`, `2024.03.05`, `2024年3月5日`, year-less `03-05` and `3月5日`, each
//! optionally followed by a time (`08:42`, `08:42:07`, `8时42分`, ISO `T08:42:07+08:00`).
//! [`date_from_url`] reads the dates that TRS and Hanweb CMSes put in article paths. Both
//! return instants in UTC; a date without a time is midnight in the portal's zone. Edge cases a
//! reader would not guess:
//!
//! - Full-width digits and punctuation (`２０２４－０３－０５`, `08：42`) are read as ASCII.
//! - A candidate touching another digit (`12024-03-05`, phone `0971-6271091`), or followed by a
//!   separator and a digit (`03-05-12`, `2024.03.05.1`), is not a date; neither are ICP/公安备案
//!   numbers. A year may follow a list number (`1.2024年3月5日`).
//! - A rejected candidate (impossible date, hour 25, year before 1990, more than a year after
//!   `now`) is skipped whole and the search goes on after it, so `2024-02-30 2024-03-01` yields
//!   March 1st and the `03-05` inside a rejected `1985-03-05` is never read on its own.
//! - Year-less dashes need two digits each (`03-05`, not `3-5`, which is mostly "1-3个工作日");
//!   year-less `/` and `.` forms are never dates (fractions, version numbers).
//! - A year-less date is in `now`'s year (in the portal's zone) unless that is more than a day
//!   ahead of `now`, then in the year before; `02-29` in a non-leap year also falls back.
//! - An explicit zone (`Z`, `+08:00`, `+0800`) is honoured; a negative offset only after an ISO
//!   `T`, because `08:42-09:30` on a page is a time range, not UTC-09:30.
//! - `has_time` means hours and minutes were written; a time that ends in another digit is
//!   not a time, and that date is skipped.
//! - A wall time that daylight saving skips (China observed DST 1986-1991) is read with the
//!   offset in force after the gap; a repeated one resolves to its earlier instant.
//! - URLs carry no `now`, so [`date_from_url`] accepts years 1990-2100 only.

use std::borrow::Cow;
use std::sync::LazyLock;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime,
    Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use regex::{Captures, Regex};

/// A point in time found in page text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundDate {
    pub at: DateTime<Utc>,
    /// true when the text gave a time of day (hours and minutes)
    pub has_time: bool,
}

const EARLIEST_YEAR: i32 = 1990;
/// Only for URLs, which come without a `now` to bound them.
const LATEST_URL_YEAR: i32 = 2100;

/// Separators are checked for consistency in code (`2024-03/05` is rejected there), because the
/// regex crate has no back-references. `None` only if a pattern is broken, which every test
/// would catch; it keeps the functions total instead of panicking.
static DATE_TIME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?x)
        (?: (?P<y>[0-9]{4}) (?P<s1>[-/.] | \s*年\s*) )?
        (?P<mo>[0-9]{1,2}) (?P<s2>[-/.] | \s*月\s*) (?P<d>[0-9]{1,2}) (?P<ri>\s*日)?
        (?:
            (?P<t>T|\s*) (?P<h>[0-9]{1,2})
            (?:
                : (?P<mi>[0-9]{2}) (?: : (?P<s>[0-9]{2}) (?:\.[0-9]{1,9})? )?
                (?P<z> Z | [+-][0-9]{2} (?: :?[0-9]{2} )? )?
              | \s*[时時点點]\s* (?P<mic>[0-9]{1,2}) \s*分 (?: \s*(?P<sc>[0-9]{1,2})\s*秒 )?
            )
        )?",
    )
    .ok()
});

/// Indices of [`DATE_TIME`]'s named groups, in pattern order (a lookup by index needs no name
/// comparison; `group_indices_match_the_pattern` checks them).
mod group {
    pub const Y: usize = 1;
    pub const S1: usize = 2;
    pub const MO: usize = 3;
    pub const S2: usize = 4;
    pub const D: usize = 5;
    pub const RI: usize = 6;
    pub const T: usize = 7;
    pub const H: usize = 8;
    pub const MI: usize = 9;
    pub const S: usize = 10;
    pub const Z: usize = 11;
    pub const MIC: usize = 12;
    pub const SC: usize = 13;
}

/// In priority order: the CMS-specific shapes are the most trustworthy.
static URL_DATES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // TRS: /202403/t20240305_123456.html
        r"(?:^|/)t([0-9]{4})([0-9]{2})([0-9]{2})_[0-9]+",
        // Hanweb: /art/2024/3/5/art_1229_123.html
        r"/art/([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})/art_",
        r"(?:^|/)([0-9]{4})([0-9]{2})/([0-9]{1,2})/",
        r"(?:^|/)([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})/",
    ]
    .iter()
    .filter_map(|pattern| Regex::new(pattern).ok())
    .collect()
});

/// The first date (optionally with time) written in `text`. Dates without a zone are in `tz`.
/// `now` bounds year inference: a date written without a year is in now's year (in tz) unless that
/// would put it more than one day in the future, then the previous year.
pub fn parse_date(text: &str, tz: Tz, now: DateTime<Utc>) -> Option<FoundDate> {
    let text = normalize(text);
    DATE_TIME
        .as_ref()?
        .captures_iter(&text)
        .find_map(|caps| candidate(&text, &caps, tz, now))
}

/// A date carried in a URL path: TRS `t20240305_123.html`, Hanweb `/art/2024/3/5/art_…`, also `/202403/05/` or `/2024-03-05/`.
pub fn date_from_url(url: &str, tz: Tz) -> Option<FoundDate> {
    let path = url_path(url);
    URL_DATES.iter().find_map(|re| {
        re.captures_iter(path).find_map(|caps| {
            let year = int(&caps, 1)?;
            if !(EARLIEST_YEAR..=LATEST_URL_YEAR).contains(&year) {
                return None;
            }
            let date = NaiveDate::from_ymd_opt(year, uint(&caps, 2)?, uint(&caps, 3)?)?;
            let at = local_to_utc(tz, date.and_time(NaiveTime::MIN))?;
            Some(FoundDate {
                at,
                has_time: false,
            })
        })
    })
}

/// The path of an absolute or relative URL: no scheme, host, query or fragment.
fn url_path(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    let url = url.get(..end).unwrap_or(url);
    match url.split_once("://") {
        Some((_, rest)) => rest.find('/').and_then(|i| rest.get(i..)).unwrap_or(""),
        None => url,
    }
}

/// Full-width digits and punctuation to ASCII, so one set of patterns reads both.
fn normalize(text: &str) -> Cow<'_, str> {
    // Each of them is U+FFxx, three bytes starting 0xEF: most texts have none to replace.
    if !text.as_bytes().contains(&0xef) {
        return Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            '０'..='９' => {
                char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c)
            }
            '－' => '-',
            '／' => '/',
            '．' => '.',
            '：' => ':',
            '＋' => '+',
            _ => c,
        })
        .collect()
}

/// One regex match turned into a date, or `None` when it is not a plausible one.
fn candidate(text: &str, caps: &Captures<'_>, tz: Tz, now: DateTime<Utc>) -> Option<FoundDate> {
    let whole = caps.get(0)?;
    let has_time = caps.get(group::H).is_some();
    if !isolated(text, whole.start(), whole.end(), caps) || !separators_agree(caps) {
        return None;
    }
    let date_time = |year| {
        let date = NaiveDate::from_ymd_opt(year, uint(caps, group::MO)?, uint(caps, group::D)?)?;
        Some(date.and_time(time_of_day(caps)?))
    };
    let at = match caps.get(group::Y) {
        Some(y) => {
            let year: i32 = y.as_str().parse().ok()?;
            let at = to_utc(date_time(year)?, zone(caps), tz)?;
            let latest = now
                .checked_add_months(Months::new(12))
                .unwrap_or(DateTime::<Utc>::MAX_UTC);
            (year >= EARLIEST_YEAR && at <= latest).then_some(at)?
        }
        None => infer_year(date_time, zone(caps), tz, now)?,
    };
    Some(FoundDate { at, has_time })
}

/// Not part of a longer number: no digit on either side, and no separator-then-digit on the
/// right (`03-05-12`) nor, for a year-less date, on the left (`0971-62`). A year may follow a
/// list number (`1.2024年…`), and after a time only a digit counts, since `08:42-09:30` is a
/// range on a date that is otherwise fine.
fn isolated(text: &str, start: usize, end: usize, caps: &Captures<'_>) -> bool {
    let has_year = caps.get(group::Y).is_some();
    let has_time = caps.get(group::H).is_some();
    let is_sep = |c: char| matches!(c, '-' | '/' | '.' | ':');
    let mut before = text.get(..start).unwrap_or("").chars().rev();
    let mut after = text.get(end..).unwrap_or("").chars();
    let (b1, b2) = (before.next(), before.next());
    let (a1, a2) = (after.next(), after.next());
    let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
    let sep = |c: Option<char>| c.is_some_and(is_sep);
    let touches_left = digit(b1) || (!has_year && sep(b1) && digit(b2));
    let touches_right = digit(a1) || (!has_time && sep(a1) && digit(a2));
    !touches_left && !touches_right
}

/// `2024-03-05`, `2024/3/5`, `2024.03.05`, `2024年3月5日`, `03-05`, `3月5日`, and nothing mixed.
fn separators_agree(caps: &Captures<'_>) -> bool {
    let sep = |index| caps.get(index).map(|m| m.as_str().trim());
    let month = caps.get(group::MO).map_or("", |m| m.as_str());
    let day = caps.get(group::D).map_or("", |m| m.as_str());
    match (sep(group::S1), sep(group::S2)) {
        (Some("年"), Some("月")) => true,
        (Some(a), Some(b)) => a == b && a != "年",
        (None, Some("月")) => caps.get(group::RI).is_some(),
        (None, Some("-")) => month.len() == 2 && day.len() == 2,
        _ => false,
    }
}

/// The written time of day, midnight when none was written, `None` when impossible.
fn time_of_day(caps: &Captures<'_>) -> Option<NaiveTime> {
    if caps.get(group::H).is_none() {
        return Some(NaiveTime::MIN);
    }
    let hour = uint(caps, group::H)?;
    let minute = uint(caps, group::MI).or_else(|| uint(caps, group::MIC))?;
    let second = match caps.get(group::S).or_else(|| caps.get(group::SC)) {
        Some(s) => s.as_str().parse().ok()?,
        None => 0,
    };
    NaiveTime::from_hms_opt(hour, minute, second)
}

/// The explicit UTC offset, if one was written where it can be trusted.
fn zone(caps: &Captures<'_>) -> Option<FixedOffset> {
    let z = caps.get(group::Z)?.as_str();
    if z == "Z" {
        return FixedOffset::east_opt(0);
    }
    let iso = caps.get(group::T).is_some_and(|t| t.as_str() == "T");
    let (sign, digits) = match z.split_at_checked(1)? {
        ("+", rest) => (1, rest),
        ("-", rest) if iso => (-1, rest),
        _ => return None,
    };
    let digits = digits.replace(':', "");
    let hours: i32 = digits.get(..2)?.parse().ok()?;
    let minutes: i32 = digits
        .get(2..)
        .filter(|m| !m.is_empty())
        .map_or(Ok(0), str::parse)
        .ok()?;
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

fn to_utc(local: NaiveDateTime, offset: Option<FixedOffset>, tz: Tz) -> Option<DateTime<Utc>> {
    match offset {
        Some(offset) => offset
            .from_local_datetime(&local)
            .single()
            .map(|t| t.with_timezone(&Utc)),
        None => local_to_utc(tz, local),
    }
}

fn local_to_utc(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
        LocalResult::None => {
            // Skipped by a DST jump: read it with the offset in force a day earlier (before the
            // jump), which moves it forward by the gap's length, as java.time does.
            let day_before = local.checked_sub_signed(TimeDelta::days(1))?;
            let offset = tz.offset_from_local_datetime(&day_before).earliest()?.fix();
            let utc =
                local.checked_sub_signed(TimeDelta::seconds(offset.local_minus_utc().into()))?;
            Some(Utc.from_utc_datetime(&utc))
        }
    }
}

/// A year-less date: this year (in `tz`) unless more than a day ahead of `now`, else last year.
fn infer_year(
    date_time: impl Fn(i32) -> Option<NaiveDateTime>,
    offset: Option<FixedOffset>,
    tz: Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let this_year = now.with_timezone(&tz).year();
    let limit = now
        .checked_add_signed(TimeDelta::days(1))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let in_year = |year| date_time(year).and_then(|local| to_utc(local, offset, tz));
    match in_year(this_year) {
        Some(at) if at <= limit => Some(at),
        _ => in_year(this_year.checked_sub(1)?).filter(|at| *at <= limit),
    }
}

fn uint(caps: &Captures<'_>, index: usize) -> Option<u32> {
    caps.get(index)?.as_str().parse().ok()
}

fn int(caps: &Captures<'_>, index: usize) -> Option<i32> {
    caps.get(index)?.as_str().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Asia::Shanghai;
    use proptest::prelude::*;

    #[test]
    fn group_indices_match_the_pattern() {
        let re = DATE_TIME.as_ref().expect("pattern compiles");
        let index = |name: &str| re.capture_names().position(|n| n == Some(name));
        let named = [
            ("y", group::Y),
            ("s1", group::S1),
            ("mo", group::MO),
            ("s2", group::S2),
            ("d", group::D),
            ("ri", group::RI),
            ("t", group::T),
            ("h", group::H),
            ("mi", group::MI),
            ("s", group::S),
            ("z", group::Z),
            ("mic", group::MIC),
            ("sc", group::SC),
        ];
        for (name, constant) in named {
            assert_eq!(index(name), Some(constant), "group {name}");
        }
        assert_eq!(re.captures_len(), named.len() + 1);
    }

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("bad test time {text}: {e}"))
    }

    /// Expected results as `(UTC instant, has_time)`; `None` means "no date found".
    fn check(cases: &[(&str, Option<(&str, bool)>)], now: &str) {
        for (text, want) in cases {
            let got = parse_date(text, Shanghai, utc(now)).map(|f| (f.at, f.has_time));
            let want = want.map(|(at, has_time)| (utc(at), has_time));
            assert_eq!(got, want, "parsing {text:?}");
        }
    }

    const NOW: &str = "2024-06-01T00:00:00Z";

    #[test]
    fn date_without_time_is_midnight_in_the_portal_zone() {
        let found = parse_date("2024-03-05", Shanghai, utc(NOW));
        assert_eq!(
            found,
            Some(FoundDate {
                at: utc("2024-03-04T16:00:00Z"),
                has_time: false
            })
        );
    }

    #[test]
    fn written_date_forms_are_read() {
        let midnight = Some(("2024-03-04T16:00:00Z", false));
        let at_0842 = Some(("2024-03-05T00:42:00Z", true));
        let at_084207 = Some(("2024-03-05T00:42:07Z", true));
        check(
            &[
                ("2024-03-05", midnight),
                ("2024-3-5", midnight),
                ("2024/3/5", midnight),
                ("2024.03.05", midnight),
                ("2024年3月5日", midnight),
                ("2024 年 3 月 5 日", midnight),
                ("2024年03月05日 08:42", at_0842),
                ("2024年3月5日 8时42分", at_0842),
                ("2024年3月5日8时42分7秒", at_084207),
                ("2024-03-05 08:42", at_0842),
                ("2024-03-05 08:42:07", at_084207),
                ("2024-03-05T08:42:07", at_084207),
                ("2024-03-05T08:42:07+08:00", at_084207),
                ("2024-03-05T00:42:07Z", at_084207),
                ("2024-03-05T08:42:07.123+0800", at_084207),
                ("2024-03-04T19:42:07-05:00", at_084207),
                ("2024-03-05 08:42:07+08:00", at_084207),
                ("２０２４－０３－０５", midnight),
                ("２０２４－０３－０５ ０８：４２", at_0842),
                ("2024-03-05 08：42", at_0842),
            ],
            NOW,
        );
    }

    #[test]
    fn dates_are_found_inside_page_text() {
        let midnight = Some(("2024-03-04T16:00:00Z", false));
        check(
            &[
                (
                    "发布时间：2024-03-05 08:42:00  来源：市政府办公室",
                    Some(("2024-03-05T00:42:00Z", true)),
                ),
                ("[2024-03-05]", midnight),
                (
                    "关于开展工作的通知 2024-04-19\u{a0}",
                    Some(("2024-04-18T16:00:00Z", false)),
                ),
                ("日期：2024年3月5日", midnight),
                ("日期:2024/03/05 阅读次数：12", midnight),
                ("<td>2024-03-05</td><td>2024-03-06</td>", midnight),
                (
                    "会议 2024-03-05 08:42-09:30 召开",
                    Some(("2024-03-05T00:42:00Z", true)),
                ),
                ("第1-2页 2024-03-05", midnight),
                ("1.2024年3月5日召开会议", midnight),
                ("[03-05 08:42]", Some(("2024-03-05T00:42:00Z", true))),
                ("2024-03-05 08 时", midnight),
                ("2024-03-05 第8期", midnight),
            ],
            NOW,
        );
    }

    #[test]
    fn impossible_or_implausible_dates_are_skipped_for_later_ones() {
        let march_first = Some(("2024-02-29T16:00:00Z", false));
        check(
            &[
                ("2024-02-30 2024-03-01", march_first),
                ("2024-13-05 2024-03-01", march_first),
                ("2024-03-05 25:00 2024-03-01", march_first),
                ("2024-03-05 08:61 2024-03-01", march_first),
                ("1985-03-05 2024-03-01", march_first),
                ("2026-03-05 2024-03-01", march_first),
                ("2024-03/05 2024-03-01", march_first),
                ("2023-02-29", None),
                ("2025-06-01", Some(("2025-05-31T16:00:00Z", false))),
            ],
            NOW,
        );
    }

    #[test]
    fn digits_that_belong_to_longer_numbers_are_not_dates() {
        check(
            &[
                ("12024-03-05", None),
                ("青ICP备19000483号-1", None),
                ("青公网安备63010302000340号", None),
                ("电话：0971-6271091", None),
                ("电话：6271091", None),
                ("编号 03-05-12", None),
                ("2024-03-051", None),
                ("版本 3.5，比例 3/5", None),
                ("办理时限 1-3个工作日", None),
                ("文号 2024.03.05.1", None),
            ],
            NOW,
        );
    }

    #[test]
    fn year_less_dates_take_the_year_that_keeps_them_at_most_a_day_ahead() {
        // now = 2025-01-02 12:00 in China.
        let now = "2025-01-02T04:00:00Z";
        check(
            &[
                ("[12-30]", Some(("2024-12-29T16:00:00Z", false))),
                ("[01-01]", Some(("2024-12-31T16:00:00Z", false))),
                ("[01-03]", Some(("2025-01-02T16:00:00Z", false))),
                ("[01-05]", Some(("2024-01-04T16:00:00Z", false))),
                ("03-05", Some(("2024-03-04T16:00:00Z", false))),
                ("3月5日", Some(("2024-03-04T16:00:00Z", false))),
                ("12月30日 08:42", Some(("2024-12-30T00:42:00Z", true))),
                ("[02-29]", Some(("2024-02-28T16:00:00Z", false))),
                ("3-5", None),
                ("3月5", None),
            ],
            now,
        );
    }

    #[test]
    fn year_boundary_uses_the_portal_zone_for_this_year() {
        // 2024-12-31T20:00Z is already 2025-01-01 04:00 in China.
        let found = parse_date("[01-01]", Shanghai, utc("2024-12-31T20:00:00Z"));
        assert_eq!(found.map(|f| f.at), Some(utc("2024-12-31T16:00:00Z")));
    }

    #[test]
    fn wall_times_skipped_by_daylight_saving_move_forward() {
        // China sprang forward 1991-04-14 02:00 (+08:00) to 03:00 (+09:00).
        let found = parse_date("1991-04-14 02:30", Shanghai, utc(NOW));
        assert_eq!(found.map(|f| f.at), Some(utc("1991-04-13T18:30:00Z")));
        let before = parse_date("1991-04-14 01:30", Shanghai, utc(NOW));
        assert_eq!(before.map(|f| f.at), Some(utc("1991-04-13T17:30:00Z")));
    }

    #[test]
    fn url_paths_carry_dates() {
        let midnight = Some(utc("2024-03-04T16:00:00Z"));
        let cases = [
            (
                "http://www.gov.cn/zhengce/202403/t20240305_123456.html",
                midnight,
            ),
            ("./202403/t20240305_123.html", midnight),
            ("t20240305_123.html", midnight),
            (
                "https://www.x.gov.cn/art/2024/3/5/art_1229_123.html",
                midnight,
            ),
            (
                "https://www.x.gov.cn/xxgk/202403/05/content_1.shtml",
                midnight,
            ),
            ("https://www.x.gov.cn/news/2024-03-05/9.html", midnight),
            ("https://www.x.gov.cn/news/2024-3-5/", midnight),
            ("https://www.x.gov.cn/202413/05/a.html", None),
            ("https://www.x.gov.cn/t19850305_1.html", None),
            ("https://www.x.gov.cn/list.html?t20240305_1", None),
            ("https://www.x.gov.cn/art_1229_123.html", None),
            ("", None),
        ];
        for (url, want) in cases {
            let got = date_from_url(url, Shanghai);
            assert_eq!(got.map(|f| f.at), want, "{url}");
            assert!(got.is_none_or(|f| !f.has_time), "{url}");
        }
    }

    #[test]
    fn extreme_nows_do_not_panic() {
        for now in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
            for tz in [
                Shanghai,
                chrono_tz::America::New_York,
                chrono_tz::Pacific::Kiritimati,
            ] {
                let _ = parse_date("[03-05] 2024-03-05", tz, now);
            }
        }
    }

    #[test]
    fn patterns_compile() {
        assert!(DATE_TIME.is_some());
        assert_eq!(URL_DATES.len(), 4);
    }

    proptest! {
        #[test]
        fn parse_date_never_panics(text in "\\PC{0,60}", secs in -1i64 << 40..1i64 << 40) {
            let now = DateTime::from_timestamp(secs, 0).unwrap_or_default();
            let _ = parse_date(&text, Shanghai, now);
        }

        #[test]
        fn parse_date_never_panics_on_date_like_text(text in "[0-9０-９年月日时分秒:：T+Z. /-]{0,40}") {
            let _ = parse_date(&text, Shanghai, DateTime::<Utc>::MAX_UTC);
            let _ = parse_date(&text, Shanghai, DateTime::<Utc>::MIN_UTC);
            let _ = date_from_url(&text, Shanghai);
        }

        #[test]
        fn date_from_url_never_panics(url in "\\PC{0,60}") {
            let _ = date_from_url(&url, Shanghai);
        }
    }
}
