//! The photos API's refusals: an RFC 6750 section 3 (`Bearer`) or RFC 9449 section 7.1 (`DPoP`)
//! `WWW-Authenticate` challenge, and a JSON body that repeats the error with a description.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::dpop;

const REALM: &str = "demo-photos";

/// A refused request: its status, the challenge's scheme (none for a 503), error and scope,
/// and the description. [`Refused::into_response`] renders it.
pub(crate) struct Refused {
    pub status: StatusCode,
    pub scheme: Option<Scheme>,
    pub error: Option<(&'static str, Option<&'static str>)>,
    pub description: &'static str,
}

pub(crate) fn refused(
    status: StatusCode,
    scheme: Scheme,
    error: Option<(&'static str, Option<&'static str>)>,
    description: &'static str,
) -> Refused {
    Refused {
        status,
        scheme: Some(scheme),
        error,
        description,
    }
}

/// The authentication scheme a request used; its challenges answer in the same scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scheme {
    Bearer,
    Dpop,
}

/// An RFC 6750 §3 or RFC 9449 §7.1 challenge. Without credentials there is no error code
/// (RFC 6750 §3.1), and a second challenge offers DPoP. The JSON body repeats the error with a
/// description for people reading it (the header is what clients use).
impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let body = match self.error {
            None => json!({ "error_description": self.description }),
            Some((code, _)) => json!({ "error": code, "error_description": self.description }),
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let Some(scheme) = self.scheme else {
            return response;
        };
        let mut params = Vec::new();
        if scheme == Scheme::Bearer {
            params.push(format!("realm=\"{REALM}\""));
        }
        if let Some((code, scope)) = self.error {
            params.push(format!("error=\"{code}\""));
            if let Some(scope) = scope {
                params.push(format!("scope=\"{scope}\""));
            }
        }
        if scheme == Scheme::Dpop {
            params.push(format!("algs=\"{}\"", dpop::ALG));
        }
        let name = match scheme {
            Scheme::Bearer => "Bearer",
            Scheme::Dpop => "DPoP",
        };
        let mut values = vec![format!("{name} {}", params.join(", "))];
        if self.error.is_none() {
            values.push(format!("DPoP algs=\"{}\"", dpop::ALG));
        }
        for value in values {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.append(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}
