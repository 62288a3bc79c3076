//! Masking for the flow inspector: what of a secret may be shown (a prefix and a length), which
//! fields and headers are secret, and outside text made printable and bounded before it is kept.

use serde_json::Value;

/// Characters of a secret shown: enough to match it with what the provider logged, far too few
/// to use it (36 of a 256-bit token's bits).
pub const PREFIX_CHARS: usize = 6;
/// Longest parameter or header value kept.
pub const MAX_VALUE_CHARS: usize = 512;
/// Longest response body kept.
pub const MAX_BODY_CHARS: usize = 4096;
/// Most headers kept per request or response.
pub const MAX_HEADERS: usize = 24;

/// Form fields and JSON members whose values are secrets: codes, verifiers and tokens are shown
/// masked (they are spent or live only on the server); `client_secret` is never shown at all.
const MASKED: &[&str] = &[
    "code",
    "code_verifier",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
];
const HIDDEN: &[&str] = &["client_secret", "password", "client_assertion"];

/// Whether a form field or JSON member holds a secret (masked or hidden).
pub fn is_secret(name: &str) -> bool {
    MASKED.contains(&name) || HIDDEN.contains(&name)
}

/// `AbCdEf… (43 characters)`: the first [`PREFIX_CHARS`] and the length; short values show none.
pub fn masked(secret: &str) -> String {
    let length = secret.chars().count();
    if length <= PREFIX_CHARS * 2 {
        return format!("•••• ({length} characters)");
    }
    let prefix: String = secret.chars().take(PREFIX_CHARS).collect();
    format!("{}… ({length} characters)", shown(&prefix, PREFIX_CHARS))
}

/// Outside text made safe to keep and show: control and invisible characters (CR, LF, ESC, bidi
/// overrides) as escapes, cut at `max` characters. HTML escaping is askama's job.
pub fn shown(text: &str, max: usize) -> String {
    shown_keeping(text, max, false)
}

fn shown_keeping(text: &str, max: usize, newlines: bool) -> String {
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out.push('…');
            break;
        }
        let plain = matches!(c, '"' | '\'' | '\\') || c.escape_debug().nth(1).is_none();
        if plain || (newlines && c == '\n') {
            out.push(c);
        } else {
            out.extend(c.escape_debug());
        }
    }
    out
}

/// A form field's value as the inspector keeps it.
pub fn form_value(name: &str, value: &str) -> String {
    if HIDDEN.contains(&name) {
        "(hidden: never shown)".into()
    } else if MASKED.contains(&name) {
        masked(value)
    } else {
        shown(value, MAX_VALUE_CHARS)
    }
}

/// A header's value as the inspector keeps it: credentials masked, cookies hidden.
pub fn header_value(name: &str, value: &[u8]) -> String {
    let value = String::from_utf8_lossy(value);
    if name.eq_ignore_ascii_case("authorization") {
        return match value.split_once(' ') {
            // client_id:client_secret, base64: nothing of it is shown (RFC 6749 §2.3.1).
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("basic") => {
                "Basic (hidden: base64 of client_id:client_secret)".into()
            }
            Some((scheme, token)) => format!("{} {}", shown(scheme, 20), masked(token)),
            None => masked(&value),
        };
    }
    if name.eq_ignore_ascii_case("dpop") {
        return dpop_proof(&value);
    }
    if name.eq_ignore_ascii_case("set-cookie") || name.eq_ignore_ascii_case("cookie") {
        return "(hidden)".into();
    }
    shown(&value, MAX_VALUE_CHARS)
}

/// A DPoP proof (RFC 9449 §4.2) as its header and claims; the signature is elided. Nothing in
/// it is secret: the key in the header is the public half, `ath` is a hash.
fn dpop_proof(jws: &str) -> String {
    use base64::Engine;
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .map(|bytes| shown(&String::from_utf8_lossy(&bytes), MAX_VALUE_CHARS))
    };
    match jws.split('.').collect::<Vec<_>>().as_slice() {
        [header, claims, _signature] => match (decode(header), decode(claims)) {
            (Some(header), Some(claims)) => {
                format!("header {header} · claims {claims} · signature elided")
            }
            _ => "(not a JWS)".into(),
        },
        _ => "(not a JWS)".into(),
    }
}

/// Headers as kept: at most [`MAX_HEADERS`], each masked by [`header_value`].
pub fn headers(map: &http::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .take(MAX_HEADERS)
        .map(|(name, value)| {
            (
                shown(name.as_str(), 64),
                header_value(name.as_str(), value.as_bytes()),
            )
        })
        .collect()
}

/// A form body's fields, masked by [`form_value`].
pub fn form(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body)
        .take(MAX_HEADERS)
        .map(|(name, value)| {
            let shown_name = shown(&name, 64);
            let value = form_value(&name, &value);
            (shown_name, value)
        })
        .collect()
}

/// A response body as kept: JSON pretty-printed with secret members masked, anything else as
/// printable text; bounded either way.
pub fn body(bytes: &[u8]) -> String {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(mut json) => {
            mask_json(&mut json);
            let pretty = serde_json::to_string_pretty(&json).unwrap_or_default();
            shown_keeping(&pretty, MAX_BODY_CHARS, true)
        }
        // Not JSON (an HTML error page, a form-encoded token response): not kept at all, since
        // it could hold a token that nothing here would mask.
        Err(_) => format!("(not JSON: {} bytes, not kept)", bytes.len()),
    }
}

/// Masks every secret member at any depth: `serde_json` refuses documents nested deeper than
/// 128, so the recursion is bounded by the parse.
fn mask_json(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                match member {
                    Value::String(s) if HIDDEN.contains(&name.as_str()) => {
                        *s = "(hidden: never shown)".into()
                    }
                    Value::String(s) if MASKED.contains(&name.as_str()) => *s = masked(s),
                    other => mask_json(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "AYjcyMzY3ZDhiNmJkNTYAYjcyMzY3ZDhiNmJkNTYxyz";

    #[test]
    fn a_masked_secret_keeps_six_characters_and_the_length() {
        assert_eq!(masked(TOKEN), "AYjcyM… (43 characters)");
        assert_eq!(masked("short-secret"), "•••• (12 characters)");
        assert_eq!(masked("thirteen-char"), "thirte… (13 characters)");
    }

    #[test]
    fn outside_text_is_printable_and_bounded() {
        assert_eq!(
            shown("a\r\nb\u{1b}[31m\u{202e}", 100),
            "a\\r\\nb\\u{1b}[31m\\u{202e}"
        );
        assert_eq!(shown("abcdef", 3), "abc…");
        assert_eq!(shown("quotes \" and ' stay", 100), "quotes \" and ' stay");
    }

    #[test]
    fn secret_form_fields_are_masked_and_the_client_secret_hidden() {
        let body = format!(
            "grant_type=authorization_code&code={TOKEN}&code_verifier={TOKEN}&client_secret=s3cr3t-value&redirect_uri=http%3A%2F%2Flocalhost%2Fcb"
        );
        let fields = form(body.as_bytes());
        let text = format!("{fields:?}");
        assert!(!text.contains(TOKEN) && !text.contains("s3cr3t"), "{text}");
        assert_eq!(
            fields[0],
            ("grant_type".into(), "authorization_code".into())
        );
        assert_eq!(fields[4].1, "http://localhost/cb");
        assert!(fields[3].1.contains("never shown"));
    }

    #[test]
    fn credentials_in_headers_are_masked() {
        let basic = header_value("Authorization", b"Basic cGhvdG8tY29ubmVjdDpzZWNyZXQ=");
        assert_eq!(basic, "Basic (hidden: base64 of client_id:client_secret)");
        let mut map = http::HeaderMap::new();
        map.insert(
            "authorization",
            "Basic c2VjcmV0LXZhbHVl".parse().expect("value"),
        );
        map.insert("accept", "application/json".parse().expect("value"));
        assert_eq!(
            headers(&map),
            vec![
                (
                    "authorization".to_owned(),
                    "Basic (hidden: base64 of client_id:client_secret)".to_owned()
                ),
                ("accept".to_owned(), "application/json".to_owned()),
            ]
        );
        let bearer = header_value("authorization", format!("Bearer {TOKEN}").as_bytes());
        assert_eq!(bearer, "Bearer AYjcyM… (43 characters)");
        assert_eq!(header_value("set-cookie", b"id=secret"), "(hidden)");
        assert_eq!(
            header_value("content-type", b"application/json"),
            "application/json"
        );
    }

    #[test]
    fn a_dpop_proof_shows_its_header_and_claims_but_not_its_signature() {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let proof = format!(
            "{}.{}.SIGNATURE-BYTES",
            b64(r#"{"typ":"dpop+jwt"}"#),
            b64(r#"{"htm":"GET"}"#)
        );
        let shown = header_value("DPoP", proof.as_bytes());
        assert_eq!(
            shown,
            r#"header {"typ":"dpop+jwt"} · claims {"htm":"GET"} · signature elided"#
        );
        assert_eq!(header_value("dpop", b"garbage"), "(not a JWS)");
    }

    #[test]
    fn json_bodies_mask_tokens_at_any_depth_and_keep_the_rest() {
        let body = body(
            format!(
                r#"{{"access_token":"{TOKEN}","token_type":"Bearer","expires_in":3600,"nested":{{"refresh_token":"{TOKEN}"}},"client_secret":"zzz"}}"#
            )
            .as_bytes(),
        );
        assert!(!body.contains(TOKEN) && !body.contains("zzz"), "{body}");
        assert!(body.contains("\"token_type\": \"Bearer\""), "{body}");
        assert!(
            body.starts_with("{\n  \""),
            "pretty-printed, real newlines: {body}"
        );
        // Any depth: a token ten levels down is masked too.
        let deep = format!(
            r#"{{"a":[{{"b":{{"c":[[{{"d":{{"e":[{{"access_token":"{TOKEN}"}}]}}}}]]}}}}]}}"#
        );
        let deep = super::body(deep.as_bytes());
        assert!(
            !deep.contains(TOKEN) && deep.contains("AYjcyM… (43 characters)"),
            "{deep}"
        );
        assert!(body.contains("AYjcyM… (43 characters)"));
    }

    #[test]
    fn bodies_that_are_not_json_are_not_kept() {
        assert_eq!(
            body(b"access_token=live-token&token_type=bearer"),
            "(not JSON: 41 bytes, not kept)"
        );
        assert_eq!(
            body(b"<html>\x1b[2J</html>"),
            "(not JSON: 17 bytes, not kept)"
        );
        // JSON is bounded.
        let long = body(format!("\"{}\"", "a".repeat(MAX_BODY_CHARS + 10)).as_bytes());
        assert_eq!(long.chars().count(), MAX_BODY_CHARS + 1);
    }
}
