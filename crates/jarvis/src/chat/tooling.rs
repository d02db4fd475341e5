//! The tool side of a turn: running the model's calls through the pipeline (each as its own
//! task, with a timeout), announcing confirmations and refusals, and turning confirmation
//! decisions made anywhere — the chat, the pending strip, REST — or their expiry into inputs for
//! the state machine.

use std::pin::Pin;

use futures::FutureExt;
use jarvis_domain::agent::{ConfirmationOutcome, Input, ToolOutcome};
use serde_json::Value;
use tokio::sync::broadcast::error::RecvError;

use super::events::{ChatEvent, ConfirmNeeded};
use super::turn::Driver;
use crate::bus::ServerEvent;
use crate::db::confirmations::ConfirmationStatus;
use crate::tools::{RequestError, Source, ToolRequest};

/// A running tool call: its id and what the pipeline said.
pub(super) type ToolFuture = Pin<Box<dyn std::future::Future<Output = (String, ToolRun)> + Send>>;

/// A tool call's outcome as the pipeline reported it.
pub(super) enum ToolRun {
    Done(ToolOutcome),
    Confirm(crate::db::confirmations::Confirmation),
    Blocked { reason: String },
}

pub(super) fn tier_word(name: &str) -> String {
    jarvis_domain::tier_of(name).as_str().to_owned()
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
                        ToolRun::Confirm(confirmation)
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
        let name = self.call_name(id);
        let outcome = match run {
            ToolRun::Done(o) => o,
            ToolRun::Blocked { reason } => {
                let tier = tier_word(&name);
                self.emit(ChatEvent::Blocked {
                    tool_use_id: id.into(),
                    tool_name: name,
                    reason: reason.clone(),
                    tier,
                })
                .await;
                ToolOutcome::Blocked(reason)
            }
            ToolRun::Confirm(c) => {
                let tier = c.tier.as_str().to_owned();
                let needed = ConfirmNeeded {
                    session_id: self.session_id.clone(),
                    confirmation_id: c.id.clone(),
                    tool_use_id: id.into(),
                    tool_name: c.tool.clone(),
                    tool_input: c.args.clone(),
                    tier,
                    summary: c.summary.clone(),
                    expires_at: crate::db::timestamp(c.expires_at),
                };
                self.confirmations.insert(c.id.clone(), (id.into(), c.expires_at));
                self.confirmation_by_call.insert(id.into(), c.id.clone());
                self.pending.push(needed.clone());
                self.svc.set_pending(&self.session_id, self.pending.clone());
                self.emit(ChatEvent::ConfirmNeeded(needed)).await;
                ToolOutcome::NeedsConfirmation { confirmation_id: c.id }
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

    pub(super) fn forget_confirmation(&mut self, confirmation_id: &str) {
        self.confirmations.remove(confirmation_id);
        self.pending.retain(|p| p.confirmation_id != confirmation_id);
        self.svc.set_pending(&self.session_id, self.pending.clone());
    }

    /// A confirmation this turn waits for changed status.
    pub(super) async fn bus_message(&mut self, msg: Result<ServerEvent, RecvError>) -> Vec<Input> {
        match msg {
            Ok(ServerEvent::Confirmation(c)) if self.confirmations.contains_key(&c.id) => {
                self.resolve(&c.id, c.status).await.into_iter().collect()
            }
            // Missed messages: ask the database about every awaited record.
            Err(RecvError::Lagged(_)) => self.recheck_all().await,
            _ => vec![],
        }
    }

    async fn recheck_all(&mut self) -> Vec<Input> {
        let ids: Vec<String> = self.confirmations.keys().cloned().collect();
        let mut inputs = Vec::new();
        for id in ids {
            if let Ok(Some((c, _))) = self.svc.inner.db.confirmation_with_result(id.clone()).await
                && let Some(input) = self.resolve(&id, c.status).await
            {
                inputs.push(input);
            }
        }
        inputs
    }

    pub(super) async fn check_expired(&mut self) -> Vec<Input> {
        // Expiring happens in the pipeline (it announces expired records on the bus).
        let _ = self.svc.inner.pipeline.pending().await;
        self.recheck_all().await
    }

    /// The machine input for a final status of an awaited confirmation.
    async fn resolve(&mut self, id: &str, status: ConfirmationStatus) -> Option<Input> {
        let outcome = match status {
            ConfirmationStatus::Pending | ConfirmationStatus::Approved => return None,
            ConfirmationStatus::Denied => ConfirmationOutcome::Denied,
            ConfirmationStatus::Expired => ConfirmationOutcome::Expired,
            ConfirmationStatus::Executed | ConfirmationStatus::Failed => {
                let result = match self.svc.inner.db.confirmation_with_result(id.to_owned()).await {
                    Ok(Some((_, r))) => r.unwrap_or(Value::Null),
                    _ => Value::Null,
                };
                if status == ConfirmationStatus::Executed {
                    ConfirmationOutcome::Executed(result.to_string())
                } else {
                    let error = result.get("error").and_then(Value::as_str).unwrap_or("failed");
                    ConfirmationOutcome::Failed(error.to_owned())
                }
            }
        };
        self.forget_confirmation(id);
        Some(Input::Confirmation { confirmation_id: id.to_owned(), outcome })
    }
}
