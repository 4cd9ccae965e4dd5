//! Conditional requests (RFC 9110 §13): If-None-Match with weak comparison over a list of tags
//! (or `*`), and If-Modified-Since only when If-None-Match is absent (§13.2.2).

use axum::http::HeaderMap;
use axum::http::header::{IF_MODIFIED_SINCE, IF_NONE_MATCH};
use chrono::{DateTime, Utc};

/// Whether the client's copy, described by `headers`, is current for a representation with this
/// strong `etag` (quoted) and `last_modified`.
pub fn not_modified(headers: &HeaderMap, etag: &str, last_modified: Option<DateTime<Utc>>) -> bool {
    if let Some(inm) = headers.get(IF_NONE_MATCH) {
        let Ok(list) = inm.to_str() else { return false };
        return list
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || opaque(tag) == opaque(etag));
    }
    let (Some(ims), Some(modified)) = (headers.get(IF_MODIFIED_SINCE), last_modified) else {
        return false;
    };
    let Some(since) = ims.to_str().ok().and_then(parse_http_date) else {
        return false;
    };
    modified.timestamp() <= since.timestamp()
}

/// The tag without its weakness indicator: weak comparison (§8.8.3.2).
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// An IMF-fixdate (`Tue, 05 Mar 2024 00:42:00 GMT`).
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// IMF-fixdate, and the obsolete RFC 850 and asctime forms recipients must accept (§5.6.7).
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let naive = [
        "%a, %d %b %Y %H:%M:%S GMT",
        "%A, %d-%b-%y %H:%M:%S GMT",
        "%a %b %e %H:%M:%S %Y",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())?;
    Some(naive.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use chrono::TimeZone;

    fn headers(name: axum::http::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn if_none_match_compares_weakly_over_a_list() {
        let etag = "\"abc\"";
        assert!(not_modified(&headers(IF_NONE_MATCH, "\"abc\""), etag, None));
        assert!(not_modified(
            &headers(IF_NONE_MATCH, "W/\"abc\""),
            etag,
            None
        ));
        assert!(not_modified(
            &headers(IF_NONE_MATCH, "\"x\", W/\"abc\""),
            etag,
            None
        ));
        assert!(not_modified(&headers(IF_NONE_MATCH, "*"), etag, None));
        assert!(!not_modified(
            &headers(IF_NONE_MATCH, "\"abd\""),
            etag,
            None
        ));
    }

    #[test]
    fn if_modified_since_counts_only_without_if_none_match() {
        let t = Utc.with_ymd_and_hms(2024, 3, 5, 0, 42, 0).unwrap();
        assert_eq!(http_date(t), "Tue, 05 Mar 2024 00:42:00 GMT");
        assert!(not_modified(
            &headers(IF_MODIFIED_SINCE, "Tue, 05 Mar 2024 00:42:00 GMT"),
            "\"a\"",
            Some(t)
        ));
        assert!(!not_modified(
            &headers(IF_MODIFIED_SINCE, "Tue, 05 Mar 2024 00:41:59 GMT"),
            "\"a\"",
            Some(t)
        ));
        assert!(not_modified(
            &headers(IF_MODIFIED_SINCE, "Tuesday, 05-Mar-24 00:42:00 GMT"),
            "\"a\"",
            Some(t)
        ));
        assert!(!not_modified(
            &headers(IF_MODIFIED_SINCE, "yesterday"),
            "\"a\"",
            Some(t)
        ));
        let mut both = headers(IF_MODIFIED_SINCE, "Tue, 05 Mar 2024 00:42:00 GMT");
        both.insert(IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!not_modified(&both, "\"a\"", Some(t)), "If-None-Match wins");
    }
}
