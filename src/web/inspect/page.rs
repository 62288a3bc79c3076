//! `GET /flow`: the flow inspector's page. This browser's latest sign-in, step by step, with the
//! real requests the app made and what it checked (recorded by `inspector`; only this session's
//! record is ever read, so no browser sees another's).

use askama::Template;
use askama_web::WebTemplate;
use axum::{Router, extract::State, routing::get};

use crate::{
    inspector::{
        mask::PREFIX_CHARS,
        record,
        view::{ACTORS, FlowView},
    },
    session::AppSession,
    web::error::{AppError, Result},
    web::state::{AppState, ProviderName},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/flow", get(show_flow))
}

#[derive(Template, WebTemplate)]
#[template(path = "flow.html")]
struct FlowPage {
    provider_name: ProviderName,
    /// `None`: nothing recorded in this browser yet.
    view: Option<FlowView>,
    actors: [&'static str; 4],
    prefix_chars: usize,
    connected: bool,
}

async fn show_flow(State(state): State<AppState>, session: AppSession) -> Result<FlowPage> {
    if !state.settings.inspector {
        return Err(AppError::InspectorOff);
    }
    let view = record::flow(&session)
        .await?
        .map(|log| FlowView::new(&log, state.oauth.client_id()));
    Ok(FlowPage {
        provider_name: state.settings.provider_name.clone(),
        view,
        actors: ACTORS,
        prefix_chars: PREFIX_CHARS,
        connected: session.tokens().await?.is_some(),
    })
}
