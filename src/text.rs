//! Outside text made safe for a log line or an error message (the ground floor: imports nothing
//! of the crate).

/// Text from outside (a provider's response, a visitor's request) made safe for a log line or an
/// error message: Debug-escaped, so no raw CR, LF, ESC or other control or invisible character
/// gets through (a forged log line, a cleared terminal), and cut to `max` characters.
pub fn escaped(text: &str, max: usize) -> String {
    // Most text (a path, a host) is printable ASCII that `escape_debug` leaves as it is.
    let plain = |b: u8| matches!(b, b' '..=b'~') && !matches!(b, b'"' | b'\'' | b'\\');
    if text.len() <= max && text.bytes().all(plain) {
        return text.to_owned();
    }
    escape_all(text, max)
}

/// [`escaped`] without its shortcut.
fn escape_all(text: &str, max: usize) -> String {
    // One pass: one character past the bound says whether to cut.
    let mut out: String = text
        .chars()
        .flat_map(char::escape_debug)
        .take(max.saturating_add(1))
        .collect();
    if out.chars().count() > max {
        out.pop();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_is_escaped_and_bounded() {
        assert_eq!(escaped("plain", 10), "plain");
        assert_eq!(escaped("a\r\nb\x1b[2J", 40), "a\\r\\nb\\u{1b}[2J");
        assert_eq!(
            escaped("\u{202e}evil", 40),
            "\\u{202e}evil",
            "bidi overrides too"
        );
        assert_eq!(escaped("abcdef", 3), "abc…");
        assert_eq!(escaped("abc", 3), "abc", "exactly the limit is not cut");
        assert_eq!(escaped("a \"b\" 'c' \\", 40), "a \\\"b\\\" \\'c\\' \\\\");
        assert_eq!(escaped("/photos?x=1", 40), "/photos?x=1");
        assert_eq!(
            escaped("\"'", 10),
            "\\\"\\'",
            "quotes alone are escaped too"
        );
        assert_eq!(
            escaped("a\nb", 4),
            "a\\nb",
            "exactly the limit, escapes included"
        );
        assert_eq!(escaped("a\u{7f}b", 40), "a\\u{7f}b", "DEL is a control");
        assert_eq!(escaped("é", 40), "é", "printable non-ASCII stays");
        assert_eq!(
            escaped("\n\n\n", 4),
            "\\n\\n…",
            "the escapes count toward the bound"
        );
        for hostile in ["\u{7}", "\u{0}", "\u{85}", "\u{2028}", "\u{feff}", "\t"] {
            let out = escaped(hostile, 20);
            assert!(
                !out.chars()
                    .any(|c| c.is_control() || c == '\u{2028}' || c == '\u{feff}'),
                "{out:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn the_shortcut_changes_nothing(text in "\\PC{0,60}|[ -~]{0,60}", max in 0usize..70) {
            proptest::prop_assert_eq!(escaped(&text, max), escape_all(&text, max));
        }
    }
}
