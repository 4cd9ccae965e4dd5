//! Content codings of cached renderings: each feed is compressed once per rendering (gzip and
//! brotli, on first demand) and the stored bytes are served, instead of compressing a 300 KB feed
//! on every request. A compressed response carries the weak form of the ETag — a strong validator
//! names one exact representation (RFC 9110 §8.8.1), and the gzip bytes are another one — and
//! every response says `Vary: Accept-Encoding`. If-None-Match compares weakly, so either form
//! revalidates.

use std::io::Write;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::http::header::ACCEPT_ENCODING;

/// A response's content coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    pub fn header(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }
}

/// The coding to answer with: brotli, else gzip, when the client accepts it (a `q=0` refuses).
pub fn negotiate(headers: &HeaderMap) -> Coding {
    let accepted = |name: &str| {
        headers
            .get_all(ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|item| {
                let mut parts = item.split(';').map(str::trim);
                let coding = parts.next().unwrap_or("");
                let refused = parts.any(|p| {
                    p.strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                coding.eq_ignore_ascii_case(name) && !refused
            })
    };
    if accepted("br") {
        Coding::Brotli
    } else if accepted("gzip") {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// `bytes` gzip-compressed (level 6).
pub fn gzip(bytes: &[u8]) -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 4),
        flate2::Compression::default(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(bytes);
    Bytes::from(encoder.finish().unwrap_or_default())
}

/// `bytes` brotli-compressed (quality 9: done once per rendering).
pub fn brotli(bytes: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(bytes.len() / 4);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 9,
        lgwin: 22,
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &bytes[..], &mut out, &params);
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn asking(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn brotli_is_preferred_and_q_zero_refuses() {
        assert_eq!(negotiate(&HeaderMap::new()), Coding::Identity);
        assert_eq!(negotiate(&asking("gzip, deflate")), Coding::Gzip);
        assert_eq!(negotiate(&asking("gzip, deflate, br")), Coding::Brotli);
        assert_eq!(negotiate(&asking("br;q=0, gzip;q=0.5")), Coding::Gzip);
        assert_eq!(negotiate(&asking("identity")), Coding::Identity);
    }
}
