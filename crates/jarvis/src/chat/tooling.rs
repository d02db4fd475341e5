//! The tool side of a turn: running the model's calls through the pipeline (each as its own
//! task, with a timeout), announcing refusals and the confirmations the machine waits for, and
//! the confirmation records' side of the machine's effects — reading a record when the machine
//! asks (a decision made anywhere: the chat, the pending strip, REST, MCP), expiring it when the
//! machine says its time is up, cancelling it on abort.

use std::pin::Pin;

use chrono::{DateTime, Utc};
use futures::FutureExt;
use jarvis_domain::agent::{ConfirmationOutcome, Input, ToolOutcome};
use serde_json::Value;

use super::events::{ChatBlockedEvent, ChatEvent, ConfirmNeeded};
use super::turn::Driver;
use crate::bus::ServerEvent;
use crate::db::confirmations::ConfirmationStatus;
use crate::tools::{RequestError, Source, ToolRequest};

/// A running tool call: its id and what the pipeline said.
pub(super) type ToolFuture = Pin<Box<dyn std::future::Future<Output = (String, ToolRun)> + Send>>;

/// A tool call's outcome as the pipeline reported it.
pub(super) enum ToolRun {
    Done(ToolOutcome),
    Blocked { reason: String },
}

impl Driver {
    pub(super) fn run_tool(&self, id: String, name: String, input: Value) -> ToolFuture {
        let pipeline = self.svc.inner.pipeline.clone();
        let timeout = self.svc.inner.settings.tool_timeout;
        let req = ToolRequest {
            tool: name,
            args: input,
            source: Source::Chat,
            actor: self.sender.actor.clone(),
            session: self.sender.jti.clone(),
        };
        async move {
            // The pipeline call runs as its own task: neither the timeout nor an abort (which
            // drops this future) cuts an action off half-way — it finishes and is audited.
            let task = tokio::spawn(async move { pipeline.submit(req).await });
            let run = match tokio::time::timeout(timeout, task).await {
                Ok(Err(join)) => {
                    tracing::error!(error = %join, "tool task failed in chat");
                    ToolRun::Done(ToolOutcome::Error(
                        "internal error while running the tool".into(),
                    ))
                }
                Err(_) => ToolRun::Done(ToolOutcome::Error(format!(
                    "timed out after {} s; the action may still complete — check the status before \
                     trying again",
                    timeout.as_secs()
                ))),
                Ok(Ok(Ok(outcome))) => match outcome {
                    crate::tools::ToolOutcome::Executed { result, .. } => {
                        ToolRun::Done(ToolOutcome::Ok(result.to_string()))
                    }
                    crate::tools::ToolOutcome::Failed { error, .. } => {
                        ToolRun::Done(ToolOutcome::Error(error.to_string()))
                    }
                    crate::tools::ToolOutcome::Blocked { reason, .. } => {
                        ToolRun::Blocked { reason }
                    }
                    crate::tools::ToolOutcome::ConfirmationRequired { confirmation, .. } => {
                        ToolRun::Done(ToolOutcome::NeedsConfirmation {
                            confirmation_id: confirmation.id,
                            expires_at: confirmation.expires_at,
                        })
                    }
                },
                Ok(Ok(Err(RequestError::UnknownTool(name)))) => ToolRun::Done(ToolOutcome::Error(
                    format!("unknown tool `{name}`; use only the tools offered"),
                )),
                Ok(Ok(Err(RequestError::InvalidArguments(m)))) => {
                    ToolRun::Done(ToolOutcome::Error(format!("invalid arguments: {m}")))
                }
                Ok(Ok(Err(RequestError::Internal(m)))) => {
                    tracing::error!(error = %m, "tool pipeline failed in chat");
                    ToolRun::Done(ToolOutcome::Error(
                        "internal error while running the tool".into(),
                    ))
                }
            };
            (id, run)
        }
        .boxed()
    }

    pub(super) async fn tool_done(&mut self, id: &str, run: ToolRun) -> Input {
        let outcome = match run {
            ToolRun::Done(o) => o,
            ToolRun::Blocked { reason } => {
                let name = self.call_name(id);
                self.emit(ChatEvent::Blocked(ChatBlockedEvent {
                    session_id: self.session_id.clone(),
                    tool_use_id: id.into(),
                    tier: jarvis_domain::tier_of(&name),
                    tool_name: name,
                    reason: reason.clone(),
                }))
                .await;
                ToolOutcome::Blocked(reason)
            }
        };
        Input::ToolFinished { id: id.into(), outcome }
    }

    fn call_name(&self, id: &str) -> String {
        self.transcript
            .iter()
            .rev()
            .find_map(|m| {
                m.tool_uses().find(|(cid, _, _)| *cid == id).map(|(_, n, _)| n.to_owned())
            })
            .unwrap_or_default()
    }

    /// `AwaitConfirmation`: publishes the record as pending for this session (so `chat:join`
    /// replays it and `chat:confirm` accepts it) and sends `chat:confirm_needed`. The record is
    /// read for what the operator must see (canonical arguments, summary, the tier decided).
    pub(super) async fn announce_confirmation(
        &self,
        id: &str,
        confirmation_id: &str,
        expires_at: DateTime<Utc>,
    ) {
        let c = match self.svc.inner.db.confirmation_with_result(confirmation_id.to_owned()).await {
            Ok(Some((c, _))) => c,
            Ok(None) => {
                tracing::error!(confirmation_id, "the confirmation to announce is not stored");
                return;
            }
            Err(e) => {
                // The turn still waits and expires; the dashboard strip can still decide it.
                tracing::error!(error = %e, "could not read the confirmation to announce");
                return;
            }
        };
        let needed = ConfirmNeeded {
            session_id: self.session_id.clone(),
            confirmation_id: c.id,
            tool_use_id: id.into(),
            tool_name: c.tool,
            tool_input: c.args,
            tier: c.tier,
            summary: c.summary,
            expires_at: crate::db::timestamp(expires_at),
        };
        self.svc.add_pending(&self.session_id, needed.clone());
        self.emit(ChatEvent::ConfirmNeeded(needed)).await;
    }

    /// `ReadConfirmation`: the machine input for the record's state, if it is final.
    pub(super) async fn read_confirmation(&self, id: &str) -> Option<Input> {
        let (c, result) = match self.svc.inner.db.confirmation_with_result(id.to_owned()).await {
            Ok(Some(found)) => found,
            Ok(None) => return None,
            Err(e) => {
                // Read again on the next news about it, or when it is due to expire.
                tracing::warn!(error = %e, "could not read an awaited confirmation");
                return None;
            }
        };
        let result = result.unwrap_or(Value::Null);
        let outcome = match c.status {
            ConfirmationStatus::Pending | ConfirmationStatus::Approved => return None,
            ConfirmationStatus::Denied => ConfirmationOutcome::Denied,
            ConfirmationStatus::Expired => ConfirmationOutcome::Expired,
            ConfirmationStatus::Executed => ConfirmationOutcome::Executed(result.to_string()),
            ConfirmationStatus::Failed => {
                let error = result.get("error").and_then(Value::as_str).unwrap_or("failed");
                ConfirmationOutcome::Failed(error.to_owned())
            }
        };
        Some(Input::Confirmation { confirmation_id: id.to_owned(), outcome })
    }

    /// `ExpireConfirmation`: marks every pending record past its expiry (by the service clock)
    /// `expired` and announces them, as `Pipeline::pending` does by the system clock. A record
    /// approved meanwhile is not touched: the store only expires `pending` ones.
    pub(super) async fn expire_due(&self) {
        match self.svc.inner.db.pending_confirmations(self.svc.now()).await {
            Ok((_, expired)) => {
                for c in expired {
                    self.svc.inner.bus.publish(ServerEvent::Confirmation(c));
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not expire confirmations"),
        }
    }

    /// `CancelConfirmation`: denies the record so that it can never run (abort).
    pub(super) async fn cancel_confirmation(&self, confirmation_id: &str) {
        // Already decided or expired is fine: either way it cannot run any more.
        let _ = self
            .svc
            .inner
            .pipeline
            .decide(
                confirmation_id,
                false,
                &self.sender.actor,
                Source::Chat,
                self.sender.jti.clone(),
            )
            .await;
    }
}
