//! Quirk modes: opt-in ways real providers deviate from the specs, so that a client can be
//! tested against each of them.

use anyhow::bail;

use crate::form;

/// Ways real providers deviate from the specs, each off by default. Turn them on to check that
/// a client copes (or refuses cleanly). `DEMO_PROVIDER_QUIRKS` takes a comma-separated list of
/// the names in [`Quirks::NAMES`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quirks {
    /// `error-200`: token-endpoint errors come with HTTP 200, as GitHub sends them (RFC 6749
    /// §5.2 says 400/401).
    pub error_with_200: bool,
    /// `expires-in-string`: `"expires_in": "3600"`, a JSON string (RFC 6749 §5.1 says number).
    pub expires_in_as_string: bool,
    /// `scope-commas`: `"scope": "photos,profile"` (RFC 6749 §3.3 says space-separated).
    pub comma_separated_scope: bool,
    /// `no-expires-in`: the token response has no `expires_in` (RECOMMENDED by RFC 6749 §5.1).
    pub omit_expires_in: bool,
    /// `no-iss`: authorization responses carry no `iss` (RFC 9207 §2), and the metadata says
    /// `authorization_response_iss_parameter_supported: false`, like most providers today. A
    /// client configured with the issuer must then refuse the callback (RFC 9207 §2.4).
    pub omit_iss: bool,
}

impl Quirks {
    /// The names `DEMO_PROVIDER_QUIRKS` accepts.
    pub const NAMES: [&'static str; 5] = [
        "error-200",
        "expires-in-string",
        "scope-commas",
        "no-expires-in",
        "no-iss",
    ];

    /// Parses a comma-separated list of [`Quirks::NAMES`] (`_` may stand for `-`). An unknown
    /// name is an error, so a typo never silently tests nothing.
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        let mut quirks = Self::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let flag = match name.replace('_', "-").to_ascii_lowercase().as_str() {
                "error-200" => &mut quirks.error_with_200,
                "expires-in-string" => &mut quirks.expires_in_as_string,
                "scope-commas" => &mut quirks.comma_separated_scope,
                "no-expires-in" => &mut quirks.omit_expires_in,
                "no-iss" => &mut quirks.omit_iss,
                _ => bail!(
                    "unknown quirk {:?}; known: {}",
                    form::clip(name, 40),
                    Self::NAMES.join(", ")
                ),
            };
            *flag = true;
        }
        Ok(quirks)
    }

    /// The names of the quirks that are on.
    pub fn enabled(&self) -> Vec<&'static str> {
        let flags = [
            self.error_with_200,
            self.expires_in_as_string,
            self.comma_separated_scope,
            self.omit_expires_in,
            self.omit_iss,
        ];
        Self::NAMES
            .iter()
            .zip(flags)
            .filter_map(|(name, on)| on.then_some(*name))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quirks_parse_every_name_and_refuse_unknown_ones() {
        let all = Quirks::parse(&Quirks::NAMES.join(",")).expect("every name");
        assert_eq!(all.enabled(), Quirks::NAMES.to_vec());
        assert_eq!(
            Quirks::parse(" error_200 , NO-ISS ").expect("spacing, case, underscores"),
            Quirks {
                error_with_200: true,
                omit_iss: true,
                ..Quirks::default()
            }
        );
        assert_eq!(Quirks::parse("").expect("empty"), Quirks::default());
        let err = Quirks::parse("no-iss,typo").expect_err("unknown");
        assert!(err.to_string().contains("typo"), "{err}");
    }
}
