//! `GET /flow`: the flow inspector's page. This browser's latest sign-in, step by step, with the
//! real requests the app made and what it checked (recorded by `inspector`; only this session's
//! record is ever read, so no browser sees another's); `/flow.json` and `/flow.md` the same
//! record to take away.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Router,
    extract::State,
    response::{IntoResponse, Response},
    routing::get,
};
use http::header;

use crate::{
    inspector::{
        export,
        mask::PREFIX_CHARS,
        record,
        view::{ACTORS, FlowView},
    },
    session::AppSession,
    web::error::{AppError, Result},
    web::state::{AppState, ProviderName},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/flow", get(show_flow))
        .route("/flow.json", get(export_json))
        .route("/flow.md", get(export_markdown))
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
    wing_links: std::sync::Arc<[crate::web::state::WingLink]>,
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
        wing_links: state.settings.wing_links.clone(),
    })
}

/// This browser's record as `/flow` shows it; the 404 page when nothing is recorded yet.
async fn current(state: &AppState, session: &AppSession) -> Result<FlowView> {
    if !state.settings.inspector {
        return Err(AppError::InspectorOff);
    }
    let log = record::flow(session).await?.ok_or(AppError::NotFound)?;
    Ok(FlowView::new(&log, state.oauth.client_id()))
}

async fn export_json(State(state): State<AppState>, session: AppSession) -> Result<Response> {
    let view = current(&state, &session).await?;
    let json = export::json(&view).map_err(anyhow::Error::from)?;
    Ok(download(
        "application/json",
        "attachment; filename=\"sign-in.json\"",
        json,
    ))
}

async fn export_markdown(State(state): State<AppState>, session: AppSession) -> Result<Response> {
    let view = current(&state, &session).await?;
    Ok(download(
        "text/markdown; charset=utf-8",
        "attachment; filename=\"sign-in.md\"",
        export::markdown(&view),
    ))
}

/// A file to save rather than a page to show (`Cache-Control: no-store` is every response's).
fn download(content_type: &'static str, disposition: &'static str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response()
}
