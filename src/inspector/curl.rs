//! "Copy as curl" for the flow inspector: the token request as a shell command, with every
//! secret replaced by a placeholder.

use super::{Exchange, mask};

/// The token request as curl: the same method, URL, headers and fields, with every secret a
/// placeholder to fill in (the code and verifier are spent anyway).
pub(super) fn curl(e: &Exchange, client_id: &str) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut lines = vec![format!("curl -i -X {} {}", e.method, quote(&e.url))];
    for (name, value) in &e.request_headers {
        if name.eq_ignore_ascii_case("authorization") {
            if value.starts_with("Basic") {
                lines.push(format!(
                    "  -u {}",
                    quote(&format!("{client_id}:<client secret>"))
                ));
            }
        } else if !name.eq_ignore_ascii_case("content-type") {
            lines.push(format!("  -H {}", quote(&format!("{name}: {value}"))));
        }
    }
    for (name, value) in &e.request_form {
        let value = if mask::is_secret(name) {
            format!("<{name}>")
        } else {
            value.clone()
        };
        lines.push(format!(
            "  --data-urlencode {}",
            quote(&format!("{name}={value}"))
        ));
    }
    lines.join(" \\\n")
}
