//! Email addresses as people type them into a form or a command line: parsed strictly, so that
//! what is stored is one deliverable mailbox and never a header injection.

use lettre::Address;

/// The longest address SMTP allows (RFC 5321 §4.5.3.1.3 path limit less the brackets).
const MAX_ADDRESS: usize = 254;

/// A strictly parsed address, or a message saying what is wrong with it.
pub fn parse_address(raw: &str) -> Result<String, String> {
    if raw.contains(['\r', '\n']) {
        return Err("an address must not contain line breaks".into());
    }
    let trimmed = raw.trim();
    if trimmed.len() > MAX_ADDRESS {
        return Err(format!("an address has at most {MAX_ADDRESS} characters"));
    }
    if trimmed.matches('@').count() != 1 || trimmed.starts_with('@') {
        return Err(format!(
            "{trimmed:?} is not an email address (it needs one @ with a name before it)"
        ));
    }
    trimmed
        .parse::<Address>()
        .map(|a| a.to_string())
        .map_err(|e| format!("{trimmed:?} is not an email address ({e})"))
}

#[cfg(test)]
mod tests {
    use super::parse_address;

    #[test]
    fn addresses_are_parsed_strictly() {
        assert_eq!(
            parse_address(" staff@example.gov.cn ").unwrap(),
            "staff@example.gov.cn"
        );
        for bad in [
            "no-at.example.cn",
            "a@@b.cn",
            "a@b@c.cn",
            "@example.cn",
            "a@b.cn\r\nBcc: x@y.cn",
            "",
            "a b@c.cn",
        ] {
            assert!(parse_address(bad).is_err(), "{bad:?}");
        }
        assert!(parse_address(&format!("{}@example.cn", "a".repeat(250))).is_err());
    }
}
