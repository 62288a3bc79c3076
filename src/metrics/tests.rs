//! The documented series, pinned: each renders with its name, type and label set, and the
//! README's table lists exactly [`SERIES`].

use super::*;

/// Records every series with every value of its labels.
fn record_all() {
    let started = Instant::now();
    sign_in_started();
    sign_in_completed();
    for reason in REASONS {
        sign_in_failed(reason);
    }
    for outcome in TOKEN_OUTCOMES {
        token_exchange(outcome);
        token_refresh(outcome);
    }
    for endpoint in ENDPOINTS {
        for outcome in CALL_OUTCOMES {
            provider_call(endpoint, outcome, started);
        }
    }
    session_lock_wait();
    session_lock_busy();
    session_store_error();
    for token in REVOKED_TOKENS {
        for outcome in REVOCATION_OUTCOMES {
            revocation(token, outcome);
        }
    }
    sessions_active(3);
}

/// Every combination of `labels`' values, rendered as Prometheus writes them (in order).
fn label_sets(labels: &[(&str, &[&str])]) -> Vec<String> {
    let mut sets = vec![String::new()];
    for (name, values) in labels {
        sets = sets
            .iter()
            .flat_map(|set| {
                values.iter().map(move |value| {
                    let sep = if set.is_empty() { "" } else { "," };
                    format!("{set}{sep}{name}=\"{value}\"")
                })
            })
            .collect();
    }
    sets
}

#[test]
fn every_series_renders_with_its_type_and_every_label_set() {
    let handle = install().expect("the recorder");
    assert!(enabled());
    record_all();
    let text = handle.render();
    for series in SERIES {
        let name = series.name;
        assert!(
            text.contains(&format!("# TYPE {name} {}\n", series.kind)),
            "{name} is a {}:\n{text}",
            series.kind
        );
        for set in label_sets(series.labels) {
            let line = match (series.kind, set.is_empty()) {
                ("histogram", true) => format!("{name}_bucket{{le=\"0.001\"}}"),
                ("histogram", false) => format!("{name}_bucket{{{set},le=\"0.001\"}}"),
                (_, true) => format!("{name} "),
                (_, false) => format!("{name}{{{set}}} "),
            };
            assert!(text.contains(&line), "missing {line}:\n{text}");
        }
    }
    // Nothing but the documented series.
    for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
        let name = line.split(' ').nth(2).unwrap_or_default();
        assert!(SERIES.iter().any(|s| s.name == name), "undocumented {name}");
    }
}

#[test]
fn installing_twice_gives_the_same_recorder() {
    let first = install().expect("first");
    let second = install().expect("second");
    sign_in_started();
    assert_eq!(first.render().is_empty(), second.render().is_empty());
    assert!(second.render().contains(SIGN_INS_STARTED));
}

#[test]
fn the_readme_documents_exactly_these_series_and_labels() {
    let readme = include_str!("../../README.md");
    // What a reader sees: not the rows of an HTML comment (a wing's alternative version).
    let mut hidden = false;
    let shown = readme.lines().filter(|l| {
        if l.starts_with("<!--") && !l.contains("-->") {
            hidden = true;
        } else if hidden && l.trim() == "-->" {
            hidden = false;
            return false;
        }
        !hidden
    });
    let rows: Vec<(String, String, String)> = shown
        .filter(|l| l.starts_with("| `oauth_client_"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let strip = |s: &str| s.replace('`', "");
            (strip(cells[1]), strip(cells[2]), strip(cells[3]))
        })
        .collect();
    let documented: Vec<(String, String, String)> = SERIES
        .iter()
        .map(|s| {
            let labels: Vec<String> = s
                .labels
                .iter()
                .map(|(name, values)| format!("{name}: {}", values.join(", ")))
                .collect();
            let labels = if labels.is_empty() {
                "none".to_owned()
            } else {
                labels.join("; ")
            };
            (s.name.to_owned(), s.kind.to_owned(), labels)
        })
        .collect();
    // In any order: a wing's removal may move a row (its own version of it) to the end.
    let (mut rows, mut documented) = (rows, documented);
    rows.sort();
    documented.sort();
    assert_eq!(rows, documented, "README.md's Metrics table");
}
