//! Environment variables that look like ours but are not read (`APP_ULR`, `listen_addr`,
//! `LISTEN_ADDRESS`, an unknown `OAUTH_*`): named at startup with the one probably meant, since
//! a typo otherwise leaves the default in force without a word.

/// `.env.example` documents every variable the app reads (a test keeps it so); the names are
/// taken from it, so this list cannot drift from the code.
const DOCUMENTED: &str = include_str!("../../.env.example");

/// Prefixes only this app uses: an unknown name with one of them is a mistake.
const OUR_PREFIXES: &[&str] = &[
    "OAUTH_",
    "SESSION_",
    "PHOTOS_",
    "PROVIDER_",
    "FLOW_",
    "LISTEN_",
    "SIGNIN_",
    "PENDING_",
    "REVOCATION_",
    "DEMO_", // DEMO-PROVIDER
];

/// The standard proxy variables, read in lower case too (as curl does).
const LOWER_CASE_READ: &[&str] = &["http_proxy", "https_proxy", "all_proxy", "no_proxy"];

/// The names `.env.example` documents (`NAME=` or `#NAME=` at the start of a line).
pub fn documented() -> Vec<&'static str> {
    DOCUMENTED
        .lines()
        .filter_map(|line| line.trim_start_matches('#').split_once('='))
        .map(|(name, _)| name)
        .filter(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
        })
        .collect()
}

/// One warning for each of `names` that looks like a documented variable but is not one.
pub fn warnings<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let known = documented();
    names
        .into_iter()
        .filter(|name| !known.contains(name) && !LOWER_CASE_READ.contains(name))
        .filter_map(|name| Some((name, meant(name, &known)?)))
        .map(|(name, meant)| match meant {
            Some(meant) => {
                format!("{name} is not a variable this app reads: did you mean {meant}?")
            }
            None => format!(
                "{name} is not a variable this app reads (see .env.example or --help for the list)"
            ),
        })
        .collect()
}

/// `Some(Some(name))`: probably meant `name`; `Some(None)`: ours by its prefix but unknown;
/// `None`: not ours (PATH, HOME, another program's).
fn meant<'k>(name: &str, known: &[&'k str]) -> Option<Option<&'k str>> {
    let upper = name.to_ascii_uppercase();
    if let Some(same) = known.iter().find(|k| **k == upper) {
        return Some(Some(same)); // the right name in the wrong case
    }
    let (distance, closest) = known
        .iter()
        .map(|k| (edits(&upper, k), *k))
        .min_by_key(|(d, _)| *d)?;
    // Close spelling: one edit in a short name, two in a long one; or, under our prefixes, a
    // longer or shorter form of a name (LISTEN_ADDRESS for LISTEN_ADDR).
    let close = distance <= if upper.len() < 8 { 1 } else { 2 };
    let prefix = OUR_PREFIXES.iter().find(|p| upper.starts_with(**p));
    let longer_form = prefix.is_some()
        && closest.len() >= 8
        && (upper.starts_with(closest) || closest.starts_with(&upper));
    if close || longer_form {
        return Some(Some(closest));
    }
    let prefix = prefix?;
    let same_prefix = known
        .iter()
        .filter(|k| k.starts_with(prefix))
        .map(|k| (edits(&upper, k), *k))
        .min_by_key(|(d, _)| *d)
        .filter(|(d, _)| *d <= upper.len() / 2);
    Some(same_prefix.map(|(_, k)| k))
}

/// Edit distance with adjacent transpositions (optimal string alignment), on bytes: enough for
/// ASCII variable names.
fn edits(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut rows = vec![(0..=b.len()).collect::<Vec<_>>(); a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str) -> Option<String> {
        let mut found = warnings([name]);
        assert!(found.len() <= 1, "{found:?}");
        found.pop()
    }

    #[test]
    fn a_misspelled_or_miscased_variable_is_named_with_the_one_meant() {
        for (typo, meant) in [
            ("APP_ULR", "APP_URL"),
            ("LISTEN_ADDRESS", "LISTEN_ADDR"),
            ("listen_addr", "LISTEN_ADDR"),
            ("Oauth_Client_Secret", "OAUTH_CLIENT_SECRET"),
            ("OAUTH_CLIENT_SECERT", "OAUTH_CLIENT_SECRET"),
            ("PHOTO_API_URL", "PHOTOS_API_URL"),
            ("OAUTH_SCOPE", "OAUTH_SCOPES"),
        ] {
            let warning = one(typo).unwrap_or_else(|| panic!("{typo} passed silently"));
            assert_eq!(
                warning,
                format!("{typo} is not a variable this app reads: did you mean {meant}?")
            );
        }
    }

    #[test]
    fn an_unknown_name_with_our_prefix_is_named_even_without_a_close_match() {
        let warning = one("OAUTH_WHATEVER_ELSE_ENTIRELY").expect("ours by its prefix");
        assert!(
            warning.starts_with("OAUTH_WHATEVER_ELSE_ENTIRELY is not a variable"),
            "{warning}"
        );
        assert!(warning.contains("--help"), "{warning}");
    }

    #[test]
    fn documented_names_and_other_programs_variables_pass_silently() {
        let names = [
            "APP_URL",
            "LISTEN_ADDR",
            "PORT",
            "OAUTH_ISSUER",
            "https_proxy",
            "no_proxy",
            "RUST_LOG",
            "PATH",
            "HOME",
            "USER",
            "SHELL",
            "TERM",
            "LANG",
            "PWD",
            "HOSTNAME",
            "HOST",
            "CI",
            "CARGO",
            "CARGO_HOME",
            "RUST_BACKTRACE",
            "DATABASE_URL",
            "SECRET_KEY",
            "APP_ENV",
            "REDIS_URL",
            "LOG_LEVEL",
            "RUST_LOG_STYLE",
            "HTTP_PROXY_USER",
            "TZ",
            "DISPLAY",
            "SSH_AUTH_SOCK",
            "XDG_RUNTIME_DIR",
        ];
        assert_eq!(warnings(names), Vec::<String>::new());
    }

    #[test]
    fn the_documented_list_is_the_whole_of_env_example() {
        let names = documented();
        for name in [
            "LISTEN_ADDR",
            "PORT",
            "APP_URL",
            "OAUTH_CLIENT_SECRET",
            "RUST_LOG",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        assert!(names.len() > 25, "{names:?}");
    }

    #[test]
    fn edits_count_a_swap_as_one() {
        assert_eq!(edits("APP_ULR", "APP_URL"), 1);
        assert_eq!(edits("ABC", "ABC"), 0);
        assert_eq!(edits("", "ABC"), 3);
        assert_eq!(edits("ABCD", "ABXD"), 1);
        assert_eq!(edits("LISTEN", "LISTEN_ADDR"), 5);
    }
}
