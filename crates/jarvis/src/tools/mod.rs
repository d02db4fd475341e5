//! The one tool pipeline (DESIGN.md "How data flows" §3), used identically by REST, MCP, the UI
//! buttons and (later) chat and runbooks:
//!
//! registry lookup → typed argument parsing → known-node check → safety decision (kill switch,
//! protection, command policy, tier, elevation) → execution with a timeout → audit → result.
//!
//! RED actions (and BLACK ones under elevation) never run from [`Pipeline::submit`]: they become
//! server-side confirmation records, and only [`Pipeline::decide`] on that record's id runs them —
//! after deciding safety *again*, so a kill switch thrown in between still stops them. There is
//! no "confirmed" flag anywhere.

mod exec;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use jarvis_domain::safety::{BlockCode, Decision, SafetyContext, decide};
use jarvis_domain::tools::{self as registry, Tier, ToolCall, ToolError};
use jarvis_proxmox::ProxmoxApi;
use serde_json::Value;

use crate::bus::{Bus, ServerEvent};
use crate::cluster::ClusterState;
use crate::db::audit::NewAudit;
use crate::db::confirmations::{ClaimError, Confirmation, ConfirmationStatus};
use crate::db::{Db, DbError};
use crate::events::{Event, EventSource, EventType, Severity, new_event};
use crate::guard::Guard;
use crate::ssh::Ssh;

pub use exec::ExecError;

/// How long a confirmation stays approvable.
pub const CONFIRMATION_TTL: Duration = Duration::from_secs(5 * 60);

/// Which path a request came through (recorded in the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The chat assistant.
    Chat,
    /// The REST API.
    Api,
    /// An MCP client.
    Mcp,
    /// The monitor's runbooks.
    Monitor,
    /// The dashboard's buttons.
    Ui,
}

impl Source {
    /// The audit log's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Api => "api",
            Self::Mcp => "mcp",
            Self::Monitor => "monitor",
            Self::Ui => "ui",
        }
    }
}

/// One request to run a tool.
#[derive(Debug, Clone)]
pub struct ToolRequest {
    /// Tool name.
    pub tool: String,
    /// Raw JSON arguments (parsed and validated here).
    pub args: Value,
    /// Path.
    pub source: Source,
    /// Who (for the audit log).
    pub actor: String,
    /// Session token id, for elevation.
    pub session: Option<String>,
}

/// What happened to a request.
#[derive(Debug, Clone)]
pub enum ToolOutcome {
    /// It ran and succeeded.
    Executed {
        /// Tier.
        tier: Tier,
        /// The tool's result.
        result: Value,
        /// Audit row (mutating tools only).
        audit_id: Option<i64>,
    },
    /// It needs the operator: a confirmation record was created.
    ConfirmationRequired {
        /// Tier.
        tier: Tier,
        /// The record.
        confirmation: Confirmation,
    },
    /// Refused by policy.
    Blocked {
        /// Tier.
        tier: Tier,
        /// Why (kill switch vs. everything else matters to the HTTP status).
        code: BlockCode,
        /// Human reason.
        reason: String,
        /// Audit row.
        audit_id: i64,
    },
    /// It ran and failed.
    Failed {
        /// Tier.
        tier: Tier,
        /// What went wrong.
        error: ExecError,
        /// Audit row (mutating tools only).
        audit_id: Option<i64>,
    },
}

/// A request that never reached the safety decision.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RequestError {
    /// No such tool (an unknown tool is BLACK: it is refused and audited).
    #[error("unknown tool `{0}`")]
    UnknownTool(String),
    /// Arguments of the wrong shape or an unknown node.
    #[error("{0}")]
    InvalidArguments(String),
    /// Storage failed.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<DbError> for RequestError {
    fn from(e: DbError) -> Self {
        RequestError::Internal(e.to_string())
    }
}

/// The outcome of deciding a confirmation.
#[derive(Debug, Clone)]
pub enum DecisionOutcome {
    /// Denied; nothing ran.
    Denied,
    /// Approved and run (successfully or not, or blocked at execution time).
    Ran(ToolOutcome),
}

/// The pipeline and everything it needs.
#[derive(Clone)]
pub struct Pipeline {
    /// Storage for confirmations and audit.
    pub db: Db,
    /// Kill switch, elevation, protection.
    pub guard: Arc<Guard>,
    /// Cluster state (known nodes, guest types, snapshot tools).
    pub cluster: ClusterState,
    /// The PVE API.
    pub pve: Arc<dyn ProxmoxApi>,
    /// SSH to nodes (absent when not configured).
    pub ssh: Option<Ssh>,
    /// Where confirmations and events are announced.
    pub bus: Bus,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

impl Pipeline {
    /// The safety context at decision time. The kill switch is re-read from the database, so a
    /// throw by another process sharing it (`jarvis serve` while `jarvis mcp` runs) counts.
    async fn context(
        &self,
        call: &ToolCall,
        session: Option<&str>,
    ) -> Result<SafetyContext<'_>, RequestError> {
        // The kill switch only matters for mutating tools; re-reading it from the database (where
        // another process may have thrown it) is skipped for reads, which keeps them in memory.
        let kill_switch = if call.descriptor().mutating {
            self.guard.refresh().await?
        } else {
            self.guard.kill_switch()
        };
        Ok(SafetyContext {
            kill_switch,
            elevated: self.guard.is_elevated(session),
            protected: &self.guard.protected,
        })
    }

    /// Parses and checks the node against the cluster the poller sees.
    fn parse(&self, tool: &str, args: &Value) -> Result<ToolCall, RequestError> {
        let call = registry::parse_call(tool, args).map_err(|e| match e {
            ToolError::UnknownTool(name) => RequestError::UnknownTool(name),
            other => RequestError::InvalidArguments(other.to_string()),
        })?;
        if let Some(node) = call.node() {
            let snap = self.cluster.snapshot();
            // Before the first poll we cannot know the nodes; let PVE answer instead.
            if !snap.nodes.is_empty() && snap.node(node.as_str()).is_none() {
                let known: Vec<&str> = snap.nodes.iter().map(|n| n.name.as_str()).collect();
                return Err(RequestError::InvalidArguments(format!(
                    "unknown node `{node}`; known nodes: {}",
                    known.join(", ")
                )));
            }
        }
        Ok(call)
    }

    async fn audit(
        &self,
        req: &ToolRequest,
        call: Option<&ToolCall>,
        tier: Option<Tier>,
        decision: &str,
        outcome: &str,
        detail: Option<String>,
    ) -> Result<i64, RequestError> {
        let entry = self
            .db
            .append_audit(NewAudit {
                actor: req.actor.clone(),
                source: req.source.as_str().into(),
                tool: Some(req.tool.clone()),
                args: Some(call.map(registry::canonical_args).unwrap_or_else(|| req.args.clone())),
                tier,
                decision: decision.into(),
                outcome: outcome.into(),
                detail,
            })
            .await?;
        Ok(entry.id)
    }

    async fn event(&self, e: Event) {
        crate::events::record(&self.db, &self.bus, e).await;
    }

    /// Runs a request through the pipeline.
    pub async fn submit(&self, req: ToolRequest) -> Result<ToolOutcome, RequestError> {
        let call = match self.parse(&req.tool, &req.args) {
            Ok(call) => call,
            Err(RequestError::UnknownTool(name)) => {
                // Unknown tools are BLACK: refuse and record the attempt.
                self.audit(
                    &req,
                    None,
                    Some(Tier::Black),
                    "blocked",
                    "blocked",
                    Some("unknown tool".into()),
                )
                .await?;
                return Err(RequestError::UnknownTool(name));
            }
            Err(e) => return Err(e),
        };
        let tier = call.tier();
        match decide(&call, &self.context(&call, req.session.as_deref()).await?) {
            Decision::Execute => self.execute(&req, &call).await,
            Decision::Confirm { summary } => self.request_confirmation(&req, &call, summary).await,
            Decision::Blocked { code, reason } => {
                let audit_id = self
                    .audit(
                        &req,
                        Some(&call),
                        Some(tier),
                        "blocked",
                        "blocked",
                        Some(reason.clone()),
                    )
                    .await?;
                self.event(
                    new_event(
                        EventType::Action,
                        Severity::Warning,
                        event_source(req.source),
                        format!("Blocked: {}", req.tool),
                        reason.clone(),
                    )
                    .with_node(call.node().map(|n| n.to_string())),
                )
                .await;
                Ok(ToolOutcome::Blocked { tier, code, reason, audit_id })
            }
        }
    }

    async fn execute(
        &self,
        req: &ToolRequest,
        call: &ToolCall,
    ) -> Result<ToolOutcome, RequestError> {
        let tier = call.tier();
        let mutating = call.descriptor().mutating;
        let result = exec::run(self, call).await;
        let audit_id = if mutating || result.is_err() {
            let (outcome, detail) = match &result {
                Ok(v) => ("success", Some(exec::brief(v))),
                Err(e) => ("failure", Some(e.to_string())),
            };
            Some(self.audit(req, Some(call), Some(tier), "executed", outcome, detail).await?)
        } else {
            None
        };
        if mutating {
            let (severity, title, message) = match &result {
                Ok(_) => (Severity::Info, format!("Executed {}", req.tool), call.summary()),
                Err(e) => (
                    Severity::Error,
                    format!("Failed {}", req.tool),
                    format!("{}: {e}", call.summary()),
                ),
            };
            self.event(
                new_event(EventType::Action, severity, event_source(req.source), title, message)
                    .with_node(call.node().map(|n| n.to_string())),
            )
            .await;
        }
        Ok(match result {
            Ok(result) => ToolOutcome::Executed { tier, result, audit_id },
            Err(error) => ToolOutcome::Failed { tier, error, audit_id },
        })
    }

    async fn request_confirmation(
        &self,
        req: &ToolRequest,
        call: &ToolCall,
        summary: String,
    ) -> Result<ToolOutcome, RequestError> {
        let tier = call.tier();
        let args = registry::canonical_args(call);
        let digest = registry::args_digest(&req.tool, &args);
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 3);
        let confirmation = Confirmation {
            id: uuid::Uuid::new_v4().to_string(),
            tool: req.tool.clone(),
            args,
            summary,
            tier,
            status: ConfirmationStatus::Pending,
            actor: req.actor.clone(),
            source: req.source.as_str().into(),
            created_at: now,
            expires_at: now + chrono::Duration::from_std(CONFIRMATION_TTL).unwrap_or_default(),
        };
        self.db.insert_confirmation(&confirmation, digest).await?;
        self.audit(
            req,
            Some(call),
            Some(tier),
            "confirmation_requested",
            "pending",
            Some(confirmation.id.clone()),
        )
        .await?;
        self.bus.publish(ServerEvent::Confirmation(confirmation.clone()));
        Ok(ToolOutcome::ConfirmationRequired { tier, confirmation })
    }

    /// Approves or denies a confirmation. Approval re-parses the stored arguments, checks them
    /// against the stored digest, decides safety again (kill switch, protection, elevation), and
    /// only then executes.
    pub async fn decide(
        &self,
        id: &str,
        approve: bool,
        actor: &str,
        source: Source,
        session: Option<String>,
    ) -> Result<Result<DecisionOutcome, ClaimError>, RequestError> {
        let claimed = self.db.claim_confirmation(id.to_string(), approve, Utc::now()).await?;
        let (mut conf, digest) = match claimed {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        let req = ToolRequest {
            tool: conf.tool.clone(),
            args: conf.args.clone(),
            source,
            actor: actor.into(),
            session,
        };
        if !approve {
            self.audit(&req, None, Some(conf.tier), "denied", "denied", Some(conf.id.clone()))
                .await?;
            self.bus.publish(ServerEvent::Confirmation(conf));
            return Ok(Ok(DecisionOutcome::Denied));
        }
        self.bus.publish(ServerEvent::Confirmation(conf.clone()));
        let call = registry::parse_call(&conf.tool, &conf.args)
            .map_err(|e| RequestError::Internal(e.to_string()))?;
        if registry::args_digest(&conf.tool, &registry::canonical_args(&call)) != digest {
            // The stored record no longer matches what was confirmed: refuse, loudly.
            let reason = "confirmation record does not match its digest".to_string();
            let audit_id = self
                .audit(
                    &req,
                    Some(&call),
                    Some(conf.tier),
                    "approved",
                    "blocked",
                    Some(reason.clone()),
                )
                .await?;
            self.finish(
                &mut conf,
                ConfirmationStatus::Failed,
                serde_json::json!({"error": reason}),
            )
            .await?;
            return Ok(Ok(DecisionOutcome::Ran(ToolOutcome::Blocked {
                tier: conf.tier,
                code: BlockCode::Protected,
                reason,
                audit_id,
            })));
        }
        self.audit(
            &req,
            Some(&call),
            Some(conf.tier),
            "approved",
            "approved",
            Some(conf.id.clone()),
        )
        .await?;
        let outcome = match decide(&call, &self.context(&call, req.session.as_deref()).await?) {
            // Confirm is the expected answer for a RED tool: this approval *is* the confirmation.
            Decision::Execute | Decision::Confirm { .. } => self.execute(&req, &call).await?,
            Decision::Blocked { code, reason } => {
                let audit_id = self
                    .audit(
                        &req,
                        Some(&call),
                        Some(conf.tier),
                        "blocked",
                        "blocked",
                        Some(reason.clone()),
                    )
                    .await?;
                ToolOutcome::Blocked { tier: conf.tier, code, reason, audit_id }
            }
        };
        let (status, result) = match &outcome {
            ToolOutcome::Executed { result, .. } => (ConfirmationStatus::Executed, result.clone()),
            ToolOutcome::Failed { error, .. } => {
                (ConfirmationStatus::Failed, serde_json::json!({"error": error.to_string()}))
            }
            ToolOutcome::Blocked { reason, .. } => {
                (ConfirmationStatus::Failed, serde_json::json!({"error": reason}))
            }
            ToolOutcome::ConfirmationRequired { .. } => (ConfirmationStatus::Failed, Value::Null),
        };
        self.finish(&mut conf, status, result).await?;
        Ok(Ok(DecisionOutcome::Ran(outcome)))
    }

    async fn finish(
        &self,
        conf: &mut Confirmation,
        status: ConfirmationStatus,
        result: Value,
    ) -> Result<(), RequestError> {
        self.db.finish_confirmation(conf.id.clone(), status, result).await?;
        conf.status = status;
        self.bus.publish(ServerEvent::Confirmation(conf.clone()));
        Ok(())
    }

    /// Pending confirmations; expired ones are announced as such.
    pub async fn pending(&self) -> Result<Vec<Confirmation>, RequestError> {
        let (pending, expired) = self.db.pending_confirmations(Utc::now()).await?;
        for c in expired {
            self.bus.publish(ServerEvent::Confirmation(c));
        }
        Ok(pending)
    }
}

fn event_source(s: Source) -> EventSource {
    match s {
        Source::Chat => EventSource::Jarvis,
        Source::Monitor => EventSource::Monitor,
        Source::Api | Source::Mcp | Source::Ui => EventSource::User,
    }
}
