//! Server-side confirmations: creating the record when a call needs a human, and deciding it.
//! Approval re-parses the stored arguments, checks them against the stored digest and decides
//! safety again before anything runs; denial only records the decision.

use chrono::Utc;
use jarvis_domain::audit::{Decision as AuditDecision, Outcome};
use jarvis_domain::safety::{BlockCode, Decision, decide};
use jarvis_domain::tools::{self as registry, ToolCall};
use serde_json::Value;

use super::{
    CONFIRMATION_TTL, ConfirmPolicy, DecideError, DecisionOutcome, Origin, Pipeline, RequestError,
    Source, ToolOutcome,
};
use crate::bus::ServerEvent;
use crate::db::confirmations::{Confirmation, ConfirmationStatus};

impl Pipeline {
    /// Stores a pending confirmation for `call` (bound to its canonical arguments by digest),
    /// audits the request and announces the record.
    pub(super) async fn request_confirmation(
        &self,
        origin: &Origin,
        call: &ToolCall,
        summary: String,
    ) -> Result<ToolOutcome, RequestError> {
        let tier = call.tier();
        let args = registry::canonical_args(call);
        let digest = registry::args_digest(call.name(), &args);
        let now = chrono::SubsecRound::trunc_subsecs(Utc::now(), 3);
        let confirmation = Confirmation {
            id: uuid::Uuid::new_v4().to_string(),
            tool: call.name().to_owned(),
            args,
            summary,
            tier,
            status: ConfirmationStatus::Pending,
            actor: origin.actor.clone(),
            source: origin.source.as_str().into(),
            created_at: now,
            expires_at: now + chrono::Duration::from_std(CONFIRMATION_TTL).unwrap_or_default(),
        };
        self.db.insert_confirmation(&confirmation, digest).await?;
        self.audit_call(
            origin,
            call,
            AuditDecision::ConfirmationRequested,
            Outcome::Pending,
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
    ) -> Result<DecisionOutcome, DecideError> {
        let (mut conf, digest) =
            self.db.claim_confirmation(id.to_string(), approve, Utc::now()).await??;
        // The approval itself is the confirmation, so the decision below runs as the tier says.
        let origin =
            Origin { source, actor: actor.into(), session, confirm: ConfirmPolicy::AsTier };
        if !approve {
            self.audit(
                &origin,
                &conf.tool,
                conf.args.clone(),
                Some(conf.tier),
                AuditDecision::Denied,
                Outcome::Denied,
                Some(conf.id.clone()),
            )
            .await?;
            self.bus.publish(ServerEvent::Confirmation(conf));
            return Ok(DecisionOutcome::Denied);
        }
        self.bus.publish(ServerEvent::Confirmation(conf.clone()));
        let call = registry::parse_call(&conf.tool, &conf.args)
            .map_err(|e| RequestError::Internal(e.to_string()))?;
        let args = registry::canonical_args(&call);
        if registry::args_digest(&conf.tool, &args) != digest {
            // The stored record no longer matches what was confirmed: refuse, loudly.
            let reason = "confirmation record does not match its digest".to_string();
            let audit_id = self
                .audit(
                    &origin,
                    &conf.tool,
                    args,
                    Some(conf.tier),
                    AuditDecision::Approved,
                    Outcome::Blocked,
                    Some(reason.clone()),
                )
                .await?;
            self.finish(
                &mut conf,
                ConfirmationStatus::Failed,
                serde_json::json!({"error": reason}),
            )
            .await?;
            return Ok(DecisionOutcome::Ran(ToolOutcome::Blocked {
                tier: conf.tier,
                code: BlockCode::Protected,
                reason,
                audit_id,
            }));
        }
        self.audit(
            &origin,
            &conf.tool,
            args.clone(),
            Some(conf.tier),
            AuditDecision::Approved,
            Outcome::Approved,
            Some(conf.id.clone()),
        )
        .await?;
        let outcome = match decide(&call, &self.context(&call, origin.session.as_deref()).await?) {
            // Confirm is the expected answer for a RED tool: this approval *is* the confirmation.
            Decision::Execute | Decision::Confirm { .. } => self.execute(&origin, &call).await?,
            Decision::Blocked { code, reason } => {
                let audit_id = self
                    .audit(
                        &origin,
                        &conf.tool,
                        args,
                        Some(conf.tier),
                        AuditDecision::Blocked,
                        Outcome::Blocked,
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
        Ok(DecisionOutcome::Ran(outcome))
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
