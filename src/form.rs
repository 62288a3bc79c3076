//! Strict `application/x-www-form-urlencoded` parsing for OAuth messages (queries and bodies).
//!
//! OAuth parameters "MUST NOT be included more than once" and empty values count as omitted
//! (RFC 6749 §3.1, §3.2; OAuth 2.1 §3.1), so unlike `serde_urlencoded` this parser reports
//! duplicates, invalid percent-encoding, invalid UTF-8 and control characters as errors.

use std::collections::HashMap;

/// Why a form could not be parsed. Names the parameter, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("the form is longer than {0} bytes")]
    TooLong(usize),
    #[error("parameter {0:?} is repeated")]
    Duplicate(String),
    #[error("a parameter is not valid UTF-8 or contains control characters")]
    BadEncoding,
}

/// Parses `raw` into a map, rejecting repeated names. Empty values are dropped (treated as absent).
pub fn parse_unique(raw: &str, max_len: usize) -> Result<HashMap<String, String>, FormError> {
    let mut params = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for (name, value) in parse_all(raw, max_len)? {
        if !seen.insert(name.clone()) {
            return Err(FormError::Duplicate(crate::text::escaped(&name, 40)));
        }
        if !value.is_empty() {
            params.insert(name, value);
        }
    }
    Ok(params)
}

/// Parses `raw` into its pairs, in order, duplicates and empty values included.
fn parse_all(raw: &str, max_len: usize) -> Result<Vec<(String, String)>, FormError> {
    if raw.len() > max_len {
        return Err(FormError::TooLong(max_len));
    }
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(name)?, decode(value)?))
        })
        .collect()
}

/// Decodes one component: `+` is a space, `%XX` a byte; the result must be UTF-8 without controls.
fn decode(component: &str) -> Result<String, FormError> {
    let bytes = component.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(FormError::BadEncoding)?;
                let hex = std::str::from_utf8(hex).map_err(|_| FormError::BadEncoding)?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| FormError::BadEncoding)?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    let text = String::from_utf8(out).map_err(|_| FormError::BadEncoding)?;
    // Control characters (CR, LF, NUL, ESC, …) have no place in any OAuth parameter and are the
    // raw material of header and log injection (RFC 6749 §10.14).
    if text.chars().any(char::is_control) {
        return Err(FormError::BadEncoding);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_decodes() {
        let p = parse_unique("code=a%2Bb&state=x+y&empty=&flag", 100).expect("valid");
        assert_eq!(p.get("code").map(String::as_str), Some("a+b"));
        assert_eq!(p.get("state").map(String::as_str), Some("x y"));
        assert!(!p.contains_key("empty"), "empty values count as absent");
        assert!(!p.contains_key("flag"));
    }

    #[test]
    fn rejects_duplicates_even_when_equal() {
        assert_eq!(
            parse_unique("state=a&state=a", 100),
            Err(FormError::Duplicate("state".into()))
        );
        assert_eq!(
            parse_unique("code=&code=x", 100),
            Err(FormError::Duplicate("code".into()))
        );
    }

    #[test]
    fn rejects_bad_encoding_and_controls() {
        for raw in [
            "state=%FF",
            "state=%C0%AF",
            "state=%00",
            "state=a%0D%0Ab",
            "state=%1b[31m",
            "state=%2",
            "state=%zz",
        ] {
            assert_eq!(parse_unique(raw, 100), Err(FormError::BadEncoding), "{raw}");
        }
    }

    #[test]
    fn decodes_exactly_once() {
        let p = parse_unique("state=%2541", 100).expect("valid");
        assert_eq!(p.get("state").map(String::as_str), Some("%41"));
    }

    #[test]
    fn rejects_oversized_input_before_parsing() {
        assert_eq!(
            parse_unique(&"a".repeat(101), 100),
            Err(FormError::TooLong(100))
        );
        // Too long wins over a bad escape further on: the length is checked first.
        assert_eq!(
            parse_unique(&format!("{}%zz", "a".repeat(98)), 100),
            Err(FormError::TooLong(100))
        );
    }

    #[test]
    fn the_length_cap_is_exact() {
        let at_limit = format!("state={}", "s".repeat(94));
        assert_eq!(at_limit.len(), 100);
        let p = parse_unique(&at_limit, 100).expect("exactly the limit is allowed");
        assert_eq!(p.get("state").map(String::len), Some(94));
        assert_eq!(
            parse_unique(&format!("{at_limit}s"), 100),
            Err(FormError::TooLong(100)),
            "one byte over is refused"
        );
        assert_eq!(parse_unique("", 0), Ok(HashMap::new()), "empty fits in 0");
    }

    #[test]
    fn escapes_anywhere_in_a_component_decode_to_their_byte() {
        let p = parse_unique("%73tate=%41%42c%2B%25&c%6Fde=x%20y+z", 100).expect("valid");
        assert_eq!(p.get("state").map(String::as_str), Some("ABc+%"));
        assert_eq!(p.get("code").map(String::as_str), Some("x y z"));
        assert_eq!(p.len(), 2);
    }
}
