//! The attacks "Try to break it" offers: what each one tries, the check that should stop it,
//! whose check that is (this app's, or the provider's), and the clause it implements.

/// Whose check stops an attack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Defender {
    App,
    Provider,
}

impl Defender {
    pub fn name(self) -> &'static str {
        match self {
            Self::App => "this app",
            Self::Provider => "the provider",
        }
    }
}

pub struct Attack {
    /// Its path (`/break-it/<id>`) and anchor.
    pub id: &'static str,
    pub title: &'static str,
    /// What the attacker does, as the buttons' page says it.
    pub tries: &'static str,
    /// The check that stops it.
    pub check: &'static str,
    pub defender: Defender,
    /// The clause it implements, and a link to it.
    pub clause: (&'static str, &'static str),
}

use Defender::{App, Provider};

pub const ATTACKS: &[Attack] = &[
    Attack {
        id: "forged-state",
        title: "A forged state",
        tries: "Brings a real callback back with its state replaced by one the attacker made up.",
        check: "The callback's state must name a sign-in started in this browser.",
        defender: App,
        clause: ("RFC 6749 §10.12", RFC6749_10_12),
    },
    Attack {
        id: "replayed-callback",
        title: "A replayed callback",
        tries: "Opens a callback that already signed someone in a second time, code and state included.",
        check: "A pending sign-in is used once: its state is gone after the first callback.",
        defender: App,
        clause: ("RFC 9700 §4.2.4", RFC9700_4_2_4),
    },
    Attack {
        id: "login-csrf",
        title: "Login CSRF: someone else's callback",
        tries: "Makes the victim's browser open the callback of the attacker's own sign-in, to sign the victim in to the attacker's account.",
        check: "The state of the callback belongs to another browser's sign-in, so it matches none of the victim's.",
        defender: App,
        clause: ("RFC 9700 §4.7.1", RFC9700_4_7_1),
    },
    Attack {
        id: "code-injection",
        title: "A stolen code in the attacker's own sign-in",
        tries: "Takes the victim's authorization code and brings it to the app inside the attacker's own callback, with the attacker's state.",
        check: "The app sends the attacker's PKCE verifier with the code; the provider finds it does not match the victim's challenge.",
        defender: Provider,
        clause: ("RFC 7636 §4.6", RFC7636_4_6),
    },
    Attack {
        id: "wrong-issuer",
        title: "Mix-up: a callback from another provider",
        tries: "Brings a callback back with its iss replaced by another issuer, as a mix-up attack would.",
        check: "The callback's iss must be byte-equal to the issuer this sign-in was sent to.",
        defender: App,
        clause: ("RFC 9207 §2.4", RFC9207_2_4),
    },
    Attack {
        id: "missing-issuer",
        title: "Mix-up: a callback without iss",
        tries: "Strips iss from a callback, hoping the app skips the mix-up check when it is absent.",
        check: "The provider advertises iss in its metadata, so a callback without it is refused.",
        defender: App,
        clause: ("RFC 9207 §2.4", RFC9207_2_4),
    },
    Attack {
        id: "pkce-plain",
        title: "A PKCE downgrade to plain",
        tries: "Sends an authorization request with code_challenge_method=plain, so that a stolen challenge would be the verifier itself.",
        check: "Only S256 is accepted.",
        defender: Provider,
        clause: ("RFC 9700 §2.1.1", RFC9700_2_1_1),
    },
    Attack {
        id: "redirect-uri",
        title: "A redirect URI of the attacker's",
        tries: "Sends an authorization request for this app's client with the attacker's redirect_uri, to receive the code there.",
        check: "The redirect URI must equal a registered one exactly; on a mismatch the provider shows an error and redirects nowhere.",
        defender: Provider,
        clause: ("RFC 6749 §4.1.2.1", RFC6749_4_1_2_1),
    },
    Attack {
        id: "code-other-client",
        title: "A code redeemed by another client",
        tries: "Redeems the victim's authorization code at the token endpoint as another registered client, with that client's own secret.",
        check: "A code is bound to the client it was issued to.",
        defender: Provider,
        clause: ("RFC 6749 §4.1.3", RFC6749_4_1_3),
    },
    Attack {
        id: "code-no-credentials",
        title: "A code redeemed without the client's secret",
        tries: "Redeems the victim's authorization code at the token endpoint in this app's name, without its credentials.",
        check: "A confidential client must authenticate at the token endpoint.",
        defender: Provider,
        clause: ("RFC 6749 §3.2.1", RFC6749_3_2_1),
    },
    Attack {
        id: "logout-csrf",
        title: "A logout without its CSRF token",
        tries: "Posts to /logout from a signed-in browser without the logout form's token, as a forged form would.",
        check: "Logout needs the session's own token in the form (and our Origin).",
        defender: App,
        clause: ("RFC 6749 §10.12", RFC6749_10_12),
    },
    Attack {
        id: "session-fixation",
        title: "Session fixation",
        tries: "Plants the attacker's session cookie in the victim's browser before the victim signs in, to share the signed-in session.",
        check: "Signing in gives the session a new id: the planted one stays signed out.",
        defender: App,
        // No RFC names it; OWASP's session management guidance does.
        clause: ("OWASP: renew the session id at sign-in", OWASP_RENEW_ID),
    },
];

const RFC6749_10_12: &str = "https://www.rfc-editor.org/rfc/rfc6749#section-10.12";
const RFC6749_4_1_2_1: &str = "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1";
const RFC6749_4_1_3: &str = "https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3";
const RFC6749_3_2_1: &str = "https://www.rfc-editor.org/rfc/rfc6749#section-3.2.1";
const RFC7636_4_6: &str = "https://www.rfc-editor.org/rfc/rfc7636#section-4.6";
const RFC9207_2_4: &str = "https://www.rfc-editor.org/rfc/rfc9207#section-2.4";
const RFC9700_2_1_1: &str = "https://www.rfc-editor.org/rfc/rfc9700#section-2.1.1";
const RFC9700_4_2_4: &str = "https://www.rfc-editor.org/rfc/rfc9700#section-4.2.4";
const OWASP_RENEW_ID: &str = "https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html#renew-the-session-id-after-any-privilege-level-change";
const RFC9700_4_7_1: &str = "https://www.rfc-editor.org/rfc/rfc9700#section-4.7.1";

/// The attack named `id`.
pub fn find(id: &str) -> Option<&'static Attack> {
    ATTACKS.iter().find(|a| a.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_or_more_attacks_each_with_a_unique_id_and_a_link_to_its_clause() {
        assert!(ATTACKS.len() >= 10);
        for (i, attack) in ATTACKS.iter().enumerate() {
            assert!(
                ATTACKS[..i].iter().all(|a| a.id != attack.id),
                "{}",
                attack.id
            );
            assert!(attack.clause.1.starts_with("https://"), "{}", attack.id);
            assert_eq!(find(attack.id).map(|a| a.title), Some(attack.title));
        }
    }
}
