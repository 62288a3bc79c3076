//! The inspector's record in the visitor's session, kept through the session's value API: the
//! latest sign-in's steps, and with PAR the recorded push until the callback joins it.

use std::time::Duration;

use tower_sessions::session::Id;

use super::{FlowLog, Step};
use crate::{
    clock::now,
    session::{AppSession, SessionError, Sessions},
};

/// The record of the latest sign-in.
const FLOW: &str = "inspector.flow";
/// With PAR: the recorded push of a sign-in, until its callback joins it to the record.
const PUSH: &str = "inspector.push";

/// The record of this browser's latest sign-in, while it is shown (see [`FlowLog::kept_until`]).
pub async fn flow(session: &AppSession) -> Result<Option<FlowLog>, SessionError> {
    let flow: Option<FlowLog> = session.value(FLOW).await?;
    Ok(flow.filter(|f| f.kept_until.is_none_or(|until| until > now())))
}

/// Whether there is a record to show.
pub async fn has_flow(session: &AppSession) -> Result<bool, SessionError> {
    Ok(flow(session).await?.is_some())
}

/// Keeps the record of a sign-in that did not connect (declined, or the exchange failed).
pub async fn keep(session: &AppSession, flow: &FlowLog) -> Result<(), SessionError> {
    session.forget_value(PUSH).await?;
    session.keep_value(FLOW, flow).await
}

/// Stages the record of a sign-in that connects: saved with the connected session.
pub async fn stage(session: &AppSession, flow: &FlowLog) -> Result<(), SessionError> {
    session.forget_value(PUSH).await?;
    session.stage_value(FLOW, flow).await
}

/// Keeps the recorded push of the sign-in named by `state`.
pub async fn keep_push(session: &AppSession, state: &str, step: Step) -> Result<(), SessionError> {
    session.keep_value(PUSH, &(state, step)).await
}

/// The recorded push of the sign-in named by `state`, if it was the latest one pushed.
pub async fn pushed_step(session: &AppSession, state: &str) -> Result<Option<Step>, SessionError> {
    let kept: Option<(String, Step)> = session.value(PUSH).await?;
    Ok(kept
        .filter(|(pushed, _)| pushed.as_bytes() == state.as_bytes())
        .map(|(_, step)| step))
}

/// Adds a later request's steps to session `id`'s record, if it has one (under its lock).
pub async fn append(sessions: &Sessions, id: Id, steps: Vec<Step>) -> Result<(), SessionError> {
    sessions
        .update_value(id, FLOW, |flow: &mut FlowLog| flow.extend(steps))
        .await
}

/// Ends the session, keeping only the record (with the logout's steps) for `ttl`.
pub async fn end_keeping(
    session: &AppSession,
    flow: &FlowLog,
    ttl: Duration,
) -> Result<(), SessionError> {
    session.end_keeping(FLOW, flow, ttl).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tower_sessions::Session;

    use super::*;
    use crate::{inspector::StepKind, session::store::MemoryStore};

    fn session_over(store: &MemoryStore, id: Option<Id>) -> AppSession {
        AppSession::new(Session::new(id, Arc::new(store.clone()), None))
    }

    #[tokio::test]
    async fn the_record_shows_until_its_kept_until_second() {
        let store = MemoryStore::new(10, |_| false);
        let session = session_over(&store, None);
        assert!(!has_flow(&session).await.expect("read"));
        let now = now();
        let mut log = FlowLog::default();
        log.steps.push(Step::new(StepKind::Authorize));
        keep(&session, &log).await.expect("kept");
        assert!(has_flow(&session).await.expect("read"), "no end set: shown");
        let shown = flow(&session).await.expect("read").expect("shown");
        assert_eq!(shown.steps.len(), 1);
        log.kept_until = Some(now + 60);
        keep(&session, &log).await.expect("kept");
        assert!(has_flow(&session).await.expect("read"), "before its end");
        log.kept_until = Some(now);
        keep(&session, &log).await.expect("kept");
        assert!(!has_flow(&session).await.expect("read"), "at its end: gone");
        assert!(flow(&session).await.expect("read").is_none());
    }

    #[tokio::test]
    async fn a_pushed_step_is_kept_for_its_own_state_until_the_flow_is_recorded() {
        let store = MemoryStore::new(10, |_| false);
        let session = session_over(&store, None);
        keep_push(&session, "s1", Step::new(StepKind::Push))
            .await
            .expect("kept");
        let next = session_over(&store, session.id());
        assert!(
            pushed_step(&next, "s2").await.expect("read").is_none(),
            "another sign-in's"
        );
        let pushed = pushed_step(&next, "s1").await.expect("read").expect("kept");
        assert_eq!(pushed.kind, StepKind::Push);
        keep(&next, &FlowLog::default()).await.expect("recorded");
        let later = session_over(&store, session.id());
        assert!(
            pushed_step(&later, "s1").await.expect("read").is_none(),
            "joined, then forgotten"
        );
        assert!(flow(&later).await.expect("read").is_some());
    }

    #[tokio::test]
    async fn a_later_step_is_appended_to_the_record_as_stored() {
        let store = MemoryStore::new(10, |_| false);
        let session = session_over(&store, None);
        keep(&session, &FlowLog::default()).await.expect("kept");
        let id = session.id().expect("saved");
        let locks = crate::session::lock::SessionLocks::in_process("s", Duration::from_secs(1));
        let sessions = Sessions::new(Arc::new(store.clone()), locks, Duration::ZERO);
        append(&sessions, id, vec![Step::new(StepKind::Photos)])
            .await
            .expect("appended");
        let later = session_over(&store, Some(id));
        let kinds: Vec<StepKind> = flow(&later)
            .await
            .expect("read")
            .expect("kept")
            .steps
            .iter()
            .map(|s| s.kind)
            .collect();
        assert_eq!(kinds, [StepKind::Photos]);
    }
}
