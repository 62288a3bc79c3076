//! The error page of each error, in one place: its HTTP status, a tone that fits its cause (a
//! choice, a refusal, a passing fault, an operator's problem), a title, a message and the one
//! button that helps.
//! Fixed text only: nothing a visitor or a provider sent is ever echoed.

use axum::http::StatusCode;

use super::AppError;
use crate::{
    oauth::{ExchangeError, PushError, openid::IdTokenError},
    photos_api::PhotosError,
    session::SessionError,
};

/// What kind of page an error gets: its look and its one button follow from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// The visitor chose this (declined at the provider): no error code, no warning sign.
    Choice,
    /// The request was refused (a stale or forged link, a bad form): start again.
    Refused,
    /// Something that passes (the provider slow or down, the store busy): try again.
    Transient,
    /// The app's set-up is wrong: not the visitor's fault, nothing to retry.
    Operator,
    /// Nothing here.
    Missing,
}

impl Tone {
    /// The CSS class and the template's switch.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Choice => "choice",
            Tone::Refused => "refused",
            Tone::Transient => "transient",
            Tone::Operator => "operator",
            Tone::Missing => "not-found",
        }
    }
}

/// One error page: its status, and fixed text, never input echoed back.
pub(super) struct PageText {
    pub(super) status: StatusCode,
    pub(super) tone: Tone,
    pub(super) title: &'static str,
    pub(super) message: &'static str,
    pub(super) action_href: &'static str,
    pub(super) action_label: &'static str,
}

const fn page(
    status: StatusCode,
    tone: Tone,
    title: &'static str,
    message: &'static str,
    action_href: &'static str,
    action_label: &'static str,
) -> PageText {
    PageText {
        status,
        tone,
        title,
        message,
        action_href,
        action_label,
    }
}

impl AppError {
    /// The page of each error, in one place: its status, tone, text and button.
    pub(super) fn page_text(&self) -> PageText {
        use AppError::*;
        use StatusCode as S;
        use Tone::*;
        let again = ("/", "Start again");
        match self {
            BadCallback(_) => page(
                S::BAD_REQUEST,
                Refused,
                "That sign-in link is not valid",
                "The address the provider sent you back with is malformed. Please start again.",
                again.0,
                again.1,
            ),
            UnknownState => page(
                S::BAD_REQUEST,
                Refused,
                "This sign-in was not started here",
                "We could not match this sign-in to one started in this browser. It may have been used already, or started in another browser. Please start again.",
                again.0,
                again.1,
            ),
            LoginExpired => page(
                S::BAD_REQUEST,
                Refused,
                "Your sign-in expired",
                "You took a little too long at the provider, so this sign-in is no longer valid. Please start again.",
                again.0,
                again.1,
            ),
            IssuerMismatch => page(
                S::BAD_REQUEST,
                Refused,
                "That sign-in came from an unexpected provider",
                "The response did not come from the provider this sign-in was sent to, so it was refused. Please start again.",
                again.0,
                again.1,
            ),
            AccessDenied => page(
                S::FORBIDDEN,
                Choice,
                "Access was not granted",
                "You chose not to share your photos. Nothing was shared. You can connect whenever you like.",
                "/",
                "Connect your account",
            ),
            AuthorizationFailed(code)
                if code == "temporarily_unavailable" || code == "server_error" =>
            {
                page(
                    S::BAD_GATEWAY,
                    Transient,
                    "The provider could not complete the sign-in",
                    "The provider had a passing problem with this sign-in. Please try again in a moment.",
                    "/",
                    "Try again",
                )
            }
            AuthorizationFailed(_) => page(
                S::BAD_GATEWAY,
                Operator,
                "The provider could not complete the sign-in",
                "The provider refused this app's sign-in request. This is a problem with the app's set-up, not with your account; the people running this site have been told in their logs.",
                "/",
                "Go to the home page",
            ),
            ClientRejected(_) => page(
                S::BAD_GATEWAY,
                Operator,
                "The provider does not recognise this app",
                "The provider refused this app's registration, so no one can connect right now. This is not your fault and retrying will not help; the people running this site have been told in their logs.",
                "/",
                "Go to the home page",
            ),
            Push(err) if err.is_timeout() => page(
                S::GATEWAY_TIMEOUT,
                Transient,
                "The provider is taking too long",
                "The provider did not answer in time, so the sign-in could not start. Please try again in a moment.",
                "/",
                "Try again",
            ),
            Push(PushError::Rejected { .. }) => page(
                S::BAD_GATEWAY,
                Operator,
                "The provider refused this app's sign-in request",
                "The provider did not accept the sign-in request this app sent it, so no one can connect right now. This is not your fault; the people running this site have been told in their logs.",
                "/",
                "Go to the home page",
            ),
            Push(_) => page(
                S::BAD_GATEWAY,
                Transient,
                "The provider is not working right now",
                "We could not start the sign-in: the provider's answer was not one we understand. Please try again in a moment.",
                "/",
                "Try again",
            ),
            Exchange(err) if err.is_timeout() => page(
                S::GATEWAY_TIMEOUT,
                Transient,
                "The provider is taking too long",
                "The provider did not answer in time, so the sign-in could not finish. Please try again in a moment.",
                "/",
                "Try again",
            ),
            Exchange(ExchangeError::Rejected { .. }) => page(
                S::BAD_GATEWAY,
                Refused,
                "The provider refused the sign-in",
                "The provider did not accept this sign-in (it may have been used already or expired). Please start again.",
                again.0,
                again.1,
            ),
            IdToken(IdTokenError::KeysUnavailable) => page(
                S::SERVICE_UNAVAILABLE,
                Transient,
                "We could not confirm who you are",
                "The provider's signing keys could not be fetched, so your sign-in could not be checked, and nothing was kept. Please try again in a moment.",
                "/",
                "Try again",
            ),
            IdToken(_) => page(
                S::BAD_GATEWAY,
                Refused,
                "We could not confirm who you are",
                "The provider's answer did not prove who signed in, so this sign-in was refused and nothing was kept. Please start again.",
                again.0,
                again.1,
            ),
            Exchange(_) => page(
                S::BAD_GATEWAY,
                Transient,
                "The provider is not working right now",
                "We could not get an answer we understand from the provider. Please try again in a moment.",
                "/",
                "Try again",
            ),
            Reconnect(_) | Photos(PhotosError::InvalidToken) => page(
                S::UNAUTHORIZED,
                Refused,
                "Your connection has expired",
                "The provider no longer accepts this connection. Please connect your account again.",
                "/",
                "Connect again",
            ),
            RefreshUnavailable(err) => page(
                if err.is_timeout() {
                    S::GATEWAY_TIMEOUT
                } else {
                    S::SERVICE_UNAVAILABLE
                },
                Transient,
                "The provider is not answering right now",
                "We could not renew your connection just now. Your connection is kept; please try again in a moment.",
                "/photos",
                "Try again",
            ),
            Photos(err) if err.is_timeout() => page(
                S::GATEWAY_TIMEOUT,
                Transient,
                "The photos are taking too long",
                "The provider did not send your photos in time. Your connection is kept; please try again in a moment.",
                "/photos",
                "Try again",
            ),
            Photos(PhotosError::InsufficientScope) => page(
                S::FORBIDDEN,
                Refused,
                "Missing permission",
                "This connection is not allowed to view your photos. Please connect again and approve photo access.",
                "/",
                "Connect again",
            ),
            Photos(_) => page(
                S::BAD_GATEWAY,
                Transient,
                "The photos service is not working right now",
                "We could not load your photos from the provider. Please try again in a moment.",
                "/photos",
                "Try again",
            ),
            Csrf => page(
                S::FORBIDDEN,
                Refused,
                "That request was refused",
                "The form you submitted was not from this page, or it expired. Please go back and try again.",
                "/",
                "Go to the home page",
            ),
            SlowBody => page(
                S::REQUEST_TIMEOUT,
                Transient,
                "The form did not arrive",
                "Your browser took too long to send the form. Please try again.",
                "/",
                "Go to the home page",
            ),
            NotFound => page(
                S::NOT_FOUND,
                Missing,
                "Page not found",
                "There is nothing at this address.",
                "/",
                "Go to the home page",
            ),
            InspectorOff => page(
                // INSPECTOR
                S::NOT_FOUND,                // INSPECTOR
                Missing,                     // INSPECTOR
                "The flow inspector is off", // INSPECTOR
                concat!(
                    // INSPECTOR
                    "This app does not record its sign-ins here. Whoever runs it can turn the ", // INSPECTOR
                    "inspector on with FLOW_INSPECTOR=on.", // INSPECTOR
                ), // INSPECTOR
                "/",                         // INSPECTOR
                "Go to the home page",       // INSPECTOR
            ), // INSPECTOR
            NotANavigation => page(
                S::BAD_REQUEST,
                Refused,
                "Open this page directly",
                "This page can only be opened in the browser, not embedded in another page.",
                "/",
                "Go to the home page",
            ),
            Session(SessionError::Store(_)) => page(
                S::SERVICE_UNAVAILABLE,
                Transient,
                "We are having trouble right now",
                "Your session could not be stored. Please try again in a moment.",
                "/",
                "Try again",
            ),
            Session(SessionError::Full) => page(
                S::SERVICE_UNAVAILABLE,
                Transient,
                "We are busy right now",
                "Too many sign-ins are in progress at the moment. Please try again in a minute.",
                "/",
                "Try again",
            ),
            Session(SessionError::Busy) => page(
                S::SERVICE_UNAVAILABLE,
                Transient,
                "This is taking longer than usual",
                "Another page of yours is still being answered. Please try again in a moment.",
                "/",
                "Try again",
            ),
            TooManySignIns => page(
                S::TOO_MANY_REQUESTS,
                Transient,
                "Slow down a little",
                "Many sign-ins were started from your address in a short time. Please wait a minute, then try again.",
                "/",
                "Try again",
            ),
            Internal(_) => page(
                S::INTERNAL_SERVER_ERROR,
                Operator,
                "Something went wrong",
                "An unexpected error happened on our side. Please try again.",
                "/",
                "Go to the home page",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tone_names_the_class_the_error_template_switches_on() {
        let tones = [
            Tone::Choice,
            Tone::Refused,
            Tone::Transient,
            Tone::Operator,
            Tone::Missing,
        ];
        // templates/error.html: `tone-{{ tone }}`, and its icon and status line by these names.
        assert_eq!(
            tones.map(Tone::as_str),
            ["choice", "refused", "transient", "operator", "not-found"]
        );
    }

    #[test]
    fn a_passing_provider_fault_at_authorization_is_try_again_and_any_other_the_set_up() {
        for code in ["temporarily_unavailable", "server_error"] {
            let text = AppError::AuthorizationFailed(code.into()).page_text();
            assert_eq!(
                (text.status, text.tone, text.action_label),
                (StatusCode::BAD_GATEWAY, Tone::Transient, "Try again"),
                "{code}"
            );
        }
        for code in ["invalid_scope", "unauthorized_client", "invalid_request"] {
            let text = AppError::AuthorizationFailed(code.into()).page_text();
            assert_eq!(
                (text.status, text.tone, text.action_label),
                (
                    StatusCode::BAD_GATEWAY,
                    Tone::Operator,
                    "Go to the home page"
                ),
                "{code}"
            );
        }
    }
}
