//! The one tool pipeline (DESIGN.md "How data flows" §3), used identically by REST, MCP, the UI
//! buttons, chat and the monitor's runbooks:
//!
//! registry lookup → typed argument parsing → known-node check → safety decision (kill switch,
//! protection, command policy, tier, elevation) → execution with a timeout → audit → result.
//!
//! [`Pipeline::submit`] takes a raw `(tool, args)` request and parses it;
//! [`Pipeline::submit_call`] takes an already typed [`ToolCall`] from trusted code (runbooks)
//! with an [`Origin`] — both then take exactly the same path.
//!
//! RED actions (and BLACK ones under elevation, and any mutating action submitted with
//! [`ConfirmPolicy::Always`]) never run from a submit: they become server-side confirmation
//! records, and only [`Pipeline::decide`] on that record's id runs them — after deciding safety
//! *again*, so a kill switch thrown in between still stops them. There is no "confirmed" flag
//! anywhere.
//!
//! The pipeline is the only holder of [`ProxmoxActions`], the PVE trait that changes things:
//! nothing else in the server can act on the cluster.

mod confirm;
mod exec;

use std::sync::Arc;
use std::time::Duration;

use jarvis_domain::audit::{Decision as AuditDecision, Outcome};
use jarvis_domain::safety::{BlockCode, Decision, SafetyContext, decide};
use jarvis_domain::tools::{self as registry, Tier, ToolCall, ToolError};
use jarvis_proxmox::{ProxmoxActions, ProxmoxApi};
use serde_json::Value;

use crate::PveHandles;
use crate::bus::Bus;
use crate::cluster::ClusterState;
use crate::db::audit::NewAudit;
use crate::db::confirmations::{ClaimError, Confirmation};
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

/// Who submits a typed call and how it may run: the trusted-caller counterpart of the
/// source/actor/session fields of a [`ToolRequest`].
#[derive(Debug, Clone)]
pub struct Origin {
    /// Path (recorded in the audit log and on confirmations).
    pub source: Source,
    /// Who (for the audit log), e.g. `monitor`.
    pub actor: String,
    /// Session token id, for elevation.
    pub session: Option<String>,
    /// Whether a mutating call may run without a human.
    pub confirm: ConfirmPolicy,
}

/// When a call that the safety decision would run needs a human first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfirmPolicy {
    /// As the tier says: GREEN and YELLOW run, RED (and elevated BLACK) need a confirmation.
    #[default]
    AsTier,
    /// Every mutating call becomes a confirmation record, whatever its tier (the monitor at
    /// autonomy level 2 recommends and the operator approves). Reads still just run.
    Always,
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

/// Why a confirmation could not be decided.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DecideError {
    /// The record cannot be claimed: unknown, expired or already decided.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// Storage failed, or the stored arguments no longer parse.
    #[error(transparent)]
    Request(#[from] RequestError),
}

impl From<DbError> for DecideError {
    fn from(e: DbError) -> Self {
        DecideError::Request(e.into())
    }
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
    /// PVE reads (read tools, task polling).
    pub pve: Arc<dyn ProxmoxApi>,
    /// PVE changes: private, so the only way to act on the cluster is through this pipeline.
    actions: Arc<dyn ProxmoxActions>,
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
    /// A pipeline over these handles; it is the only holder of `pve.actions`.
    pub fn new(
        db: Db,
        guard: Arc<Guard>,
        cluster: ClusterState,
        pve: PveHandles,
        ssh: Option<Ssh>,
        bus: Bus,
    ) -> Self {
        Pipeline { db, guard, cluster, pve: pve.read, actions: pve.actions, ssh, bus }
    }

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

    /// Refuses a call whose node the cluster the poller sees does not have.
    fn check_node(&self, call: &ToolCall) -> Result<(), RequestError> {
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
        Ok(())
    }

    #[allow(clippy::too_many_arguments)] // One audit row's columns; a struct would only rename them.
    async fn audit(
        &self,
        origin: &Origin,
        tool: &str,
        args: Value,
        tier: Option<Tier>,
        decision: AuditDecision,
        outcome: Outcome,
        detail: Option<String>,
    ) -> Result<i64, RequestError> {
        let entry = self
            .db
            .append_audit(NewAudit {
                actor: origin.actor.clone(),
                source: origin.source.as_str().into(),
                tool: Some(tool.to_owned()),
                args: Some(args),
                tier,
                decision,
                outcome,
                detail,
            })
            .await?;
        Ok(entry.id)
    }

    /// [`Self::audit`] for a parsed call: its name, canonical arguments and tier.
    async fn audit_call(
        &self,
        origin: &Origin,
        call: &ToolCall,
        decision: AuditDecision,
        outcome: Outcome,
        detail: Option<String>,
    ) -> Result<i64, RequestError> {
        let args = registry::canonical_args(call);
        self.audit(origin, call.name(), args, Some(call.tier()), decision, outcome, detail).await
    }

    async fn event(&self, e: Event) {
        crate::events::record(&self.db, &self.bus, e).await;
    }

    /// Runs a raw request through the pipeline: parse, then [`Self::submit_call`]'s path with
    /// the tier's confirmation policy. An unknown tool is BLACK: refused and audited.
    pub async fn submit(&self, req: ToolRequest) -> Result<ToolOutcome, RequestError> {
        let origin = Origin {
            source: req.source,
            actor: req.actor,
            session: req.session,
            confirm: ConfirmPolicy::AsTier,
        };
        let call = match registry::parse_call(&req.tool, &req.args) {
            Ok(call) => call,
            Err(ToolError::UnknownTool(name)) => {
                self.audit(
                    &origin,
                    &req.tool,
                    req.args,
                    Some(Tier::Black),
                    AuditDecision::Blocked,
                    Outcome::Blocked,
                    Some("unknown tool".into()),
                )
                .await?;
                return Err(RequestError::UnknownTool(name));
            }
            Err(other) => return Err(RequestError::InvalidArguments(other.to_string())),
        };
        self.submit_call(call, origin).await
    }

    /// Runs a typed call from a trusted caller (the monitor's runbooks) through the pipeline:
    /// known-node check, safety decision (kill switch, protection, command policy, tier,
    /// elevation), then execution, a confirmation record or a refusal — audited and announced
    /// exactly as for [`Self::submit`]. With [`ConfirmPolicy::Always`] a mutating call the
    /// decision would run becomes a confirmation instead.
    pub async fn submit_call(
        &self,
        call: ToolCall,
        origin: Origin,
    ) -> Result<ToolOutcome, RequestError> {
        self.check_node(&call)?;
        let tier = call.tier();
        match decide(&call, &self.context(&call, origin.session.as_deref()).await?) {
            Decision::Execute
                if origin.confirm == ConfirmPolicy::Always && call.descriptor().mutating =>
            {
                let summary = call.summary();
                self.request_confirmation(&origin, &call, summary).await
            }
            Decision::Execute => self.execute(&origin, &call).await,
            Decision::Confirm { summary } => {
                self.request_confirmation(&origin, &call, summary).await
            }
            Decision::Blocked { code, reason } => {
                let audit_id = self
                    .audit_call(
                        &origin,
                        &call,
                        AuditDecision::Blocked,
                        Outcome::Blocked,
                        Some(reason.clone()),
                    )
                    .await?;
                self.event(
                    new_event(
                        EventType::Action,
                        Severity::Warning,
                        event_source(origin.source),
                        format!("Blocked: {}", call.name()),
                        reason.clone(),
                    )
                    .with_node(call.node().map(|n| n.to_string())),
                )
                .await;
                Ok(ToolOutcome::Blocked { tier, code, reason, audit_id })
            }
        }
    }

    async fn execute(&self, origin: &Origin, call: &ToolCall) -> Result<ToolOutcome, RequestError> {
        let tier = call.tier();
        let mutating = call.descriptor().mutating;
        let result = exec::run(self, call).await;
        let audit_id = if mutating || result.is_err() {
            let (outcome, detail) = match &result {
                Ok(v) => (Outcome::Success, Some(exec::brief(v))),
                Err(e) => (Outcome::Failure, Some(e.to_string())),
            };
            Some(self.audit_call(origin, call, AuditDecision::Executed, outcome, detail).await?)
        } else {
            None
        };
        if mutating {
            let (severity, title, message) = match &result {
                Ok(_) => (Severity::Info, format!("Executed {}", call.name()), call.summary()),
                Err(e) => (
                    Severity::Error,
                    format!("Failed {}", call.name()),
                    format!("{}: {e}", call.summary()),
                ),
            };
            self.event(
                new_event(EventType::Action, severity, event_source(origin.source), title, message)
                    .with_node(call.node().map(|n| n.to_string())),
            )
            .await;
        }
        Ok(match result {
            Ok(result) => ToolOutcome::Executed { tier, result, audit_id },
            Err(error) => ToolOutcome::Failed { tier, error, audit_id },
        })
    }
}

fn event_source(s: Source) -> EventSource {
    match s {
        Source::Chat => EventSource::Jarvis,
        Source::Monitor => EventSource::Monitor,
        Source::Api | Source::Mcp | Source::Ui => EventSource::User,
    }
}
