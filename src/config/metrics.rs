//! Whether and where `/metrics` is served: `METRICS=on` on the app's own address,
//! `METRICS_ADDR=host:port` on a listener of its own (so it need not be public); off by default.

use anyhow::bail;

use super::{ListenAddr, vars::Vars};

/// Where the Prometheus endpoint is served, if anywhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricsConfig {
    /// The default: no recorder, no route; every metrics call is a no-op.
    Off,
    /// `METRICS=on`: `GET /metrics` on the app's address.
    OnAppAddress,
    /// `METRICS_ADDR`: `GET /metrics` on that address only, not on the app's.
    OwnListener(ListenAddr),
}

impl MetricsConfig {
    pub fn is_on(&self) -> bool {
        *self != Self::Off
    }
}

/// Reads `METRICS` and `METRICS_ADDR`; every problem noted in `vars`.
pub(super) fn metrics(vars: &mut Vars<impl Fn(&str) -> Option<String>>) -> Option<MetricsConfig> {
    let on = vars.optional("METRICS", |v| match v {
        "on" | "true" => Ok(true),
        "off" | "false" => Ok(false),
        _ => bail!("expected on or off"),
    })?;
    let addr = vars.optional("METRICS_ADDR", |v| {
        v.parse()
            .map_err(|_| anyhow::anyhow!("expected host:port, e.g. 127.0.0.1:9100"))
    })?;
    match (on, addr) {
        (Some(false), Some(_)) => {
            vars.errors.push(
                "METRICS=off and METRICS_ADDR are both set: unset one (METRICS_ADDR alone turns \
                 metrics on, on that address)"
                    .into(),
            );
            None
        }
        (_, Some(addr)) => Some(MetricsConfig::OwnListener(ListenAddr {
            addr,
            variable: "METRICS_ADDR",
        })),
        (Some(true), None) => Some(MetricsConfig::OnAppAddress),
        (_, None) => Some(MetricsConfig::Off),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::config::Config;

    fn from(vars: &[(&str, &str)]) -> anyhow::Result<MetricsConfig> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned()).map(|c| c.metrics)
    }

    #[test]
    fn metrics_are_off_unless_asked_for_on_the_app_or_a_listener_of_their_own() {
        assert_eq!(from(&[]).expect("default"), MetricsConfig::Off);
        assert_eq!(
            from(&[("METRICS", "off")]).expect("off"),
            MetricsConfig::Off
        );
        assert_eq!(
            from(&[("METRICS", "on")]).expect("on"),
            MetricsConfig::OnAppAddress
        );
        for vars in [
            &[("METRICS_ADDR", "127.0.0.1:9100")][..],
            &[("METRICS", "on"), ("METRICS_ADDR", "127.0.0.1:9100")],
        ] {
            let MetricsConfig::OwnListener(listen) = from(vars).expect("own") else {
                panic!("{vars:?}: not its own listener");
            };
            assert_eq!(listen.addr.to_string(), "127.0.0.1:9100");
            assert_eq!(listen.variable, "METRICS_ADDR");
        }
    }

    #[test]
    fn a_bad_or_contradictory_metrics_setting_names_its_variable() {
        for (vars, says) in [
            (&[("METRICS", "yes")][..], "METRICS=\"yes\" is not valid"),
            (
                &[("METRICS_ADDR", "9100")],
                "METRICS_ADDR=\"9100\" is not valid",
            ),
            (
                &[("METRICS", "off"), ("METRICS_ADDR", "127.0.0.1:9100")],
                "METRICS=off and METRICS_ADDR",
            ),
        ] {
            let err = format!("{:#}", from(vars).expect_err("refused"));
            assert!(err.contains(says), "{vars:?}: {err}");
        }
    }
}
