//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0): the URL that sends the browser
//! to the provider's `end_session_endpoint`, so the provider ends its own session too.

use url::Url;

use super::{Identity, OpenId};

impl OpenId {
    /// Where to send the browser after the local logout, when the provider has an
    /// `end_session_endpoint` (§2): with the ID token as `id_token_hint` (the one token the spec
    /// puts in a URL, §2.1, so the provider knows whose session to end without asking),
    /// `client_id`, the `post_logout_redirect_uri` it was registered with (§3, exact match)
    /// and `state`, which comes back with the browser (§2: checked by the caller).
    /// `None`: the provider has no such endpoint; the logout stays local.
    pub fn end_session_url(
        &self,
        identity: &Identity,
        post_logout_redirect_uri: &Url,
        state: &str,
    ) -> Option<Url> {
        let mut url = self.end_session.clone()?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", identity.id_token.secret())
            .append_pair("client_id", self.client_id.as_str())
            .append_pair(
                "post_logout_redirect_uri",
                post_logout_redirect_uri.as_str(),
            )
            .append_pair("state", state);
        Some(url)
    }
}
