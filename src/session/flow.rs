//! The flow inspector's part of the typed session: the record of the latest sign-in, and with
//! PAR the recorded push until the callback joins it to that record.

use super::{AppSession, FLOW, PUSH, mark_saved};
use crate::{
    inspector::{FlowLog, Step},
    session::SessionError,
};

impl AppSession {
    /// The inspector's record of this browser's latest sign-in.
    pub async fn flow(&self) -> Result<Option<FlowLog>, SessionError> {
        let flow: Option<FlowLog> = self.get(FLOW).await?;
        Ok(flow.filter(|f| f.kept_until.is_none_or(|until| until > crate::clock::now())))
    }

    /// Whether there is such a record to show.
    pub async fn has_flow(&self) -> Result<bool, SessionError> {
        Ok(self.flow().await?.is_some())
    }

    /// Keeps the record of a sign-in that did not connect (declined, or the exchange failed).
    pub async fn record_flow(&self, flow: &FlowLog) -> Result<(), SessionError> {
        self.forget_push().await?;
        self.insert(FLOW, flow).await?;
        self.save().await
    }

    /// Keeps the inspector's record of the push for the sign-in named by `state`.
    pub async fn keep_push(&self, state: &str, step: Step) -> Result<(), SessionError> {
        self.insert(PUSH, &(state, step)).await?;
        self.save().await
    }

    /// The recorded push of the sign-in named by `state`, if it was the latest one pushed.
    pub async fn pushed_step(&self, state: &str) -> Result<Option<Step>, SessionError> {
        let kept: Option<(String, Step)> = self.get(PUSH).await?;
        Ok(kept
            .filter(|(pushed, _)| pushed.as_bytes() == state.as_bytes())
            .map(|(_, step)| step))
    }

    pub(super) async fn forget_push(&self) -> Result<(), SessionError> {
        if self.get::<serde::de::IgnoredAny>(PUSH).await?.is_some() {
            mark_saved(false);
            self.0
                .remove_value(PUSH)
                .await
                .map_err(SessionError::from)?;
        }
        Ok(())
    }
}
