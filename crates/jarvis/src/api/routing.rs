//! `GET /api/routing` and `PUT /api/routing`: the routing rules in force and the daily budget
//! cap. Rules are validated by `jarvis_domain::routing::RoutingRules::validate`; a valid `PUT`
//! is stored (it survives restarts), audited, and applies to the next chat message.

use axum::Json;
use axum::extract::State;
use jarvis_domain::audit::{Decision, Outcome};
use jarvis_domain::routing::RoutingRules;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::auth::Operator;
use crate::db::audit::NewAudit;
use crate::db::settings::RoutingConfig;
use crate::error::{ApiJson, AppError, ErrorBody};
use crate::state::AppState;

/// Highest accepted daily budget, USD (a typo guard, not a policy).
const MAX_DAILY_BUDGET_USD: f64 = 1_000_000.0;

/// The routing settings, as served and as accepted (every field required).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[ts(export)]
pub struct RoutingSettings {
    /// Words or phrases that send a message to Claude (a trailing `*` makes the last word a
    /// prefix).
    pub tool_keywords: Vec<String>,
    /// Words or phrases that mark small talk (answered locally).
    pub smalltalk_patterns: Vec<String>,
    /// Largest prompt, in estimated tokens, sent to the local model.
    pub local_context_limit_tokens: u32,
    /// Tool names that send a message naming them to Claude.
    pub prefer_claude_for_tools: Vec<String>,
    /// Daily spend cap in USD; 0 = no limit.
    pub daily_budget_usd: f64,
}

impl From<RoutingConfig> for RoutingSettings {
    fn from(c: RoutingConfig) -> Self {
        RoutingSettings {
            tool_keywords: c.rules.tool_keywords,
            smalltalk_patterns: c.rules.smalltalk_patterns,
            local_context_limit_tokens: c.rules.local_context_limit_tokens,
            prefer_claude_for_tools: c.rules.prefer_claude_for_tools,
            daily_budget_usd: c.daily_budget_usd,
        }
    }
}

impl RoutingSettings {
    /// Validates and converts; `Err` lists every problem.
    pub fn into_config(self) -> Result<RoutingConfig, Vec<String>> {
        let rules = RoutingRules {
            tool_keywords: self.tool_keywords,
            smalltalk_patterns: self.smalltalk_patterns,
            local_context_limit_tokens: self.local_context_limit_tokens,
            prefer_claude_for_tools: self.prefer_claude_for_tools,
        };
        let mut problems = rules.validate().err().unwrap_or_default();
        let budget = self.daily_budget_usd;
        if !budget.is_finite() || !(0.0..=MAX_DAILY_BUDGET_USD).contains(&budget) {
            problems.push(format!(
                "dailyBudgetUsd: must be between 0 and {MAX_DAILY_BUDGET_USD} (0 = no limit)"
            ));
        }
        if problems.is_empty() {
            Ok(RoutingConfig { rules, daily_budget_usd: budget })
        } else {
            Err(problems)
        }
    }
}

/// The routing rules and budget in force.
#[utoipa::path(get, path = "/api/routing", tag = "chat", security(("bearer" = [])),
    responses((status = 200, body = RoutingSettings), (status = 401, body = ErrorBody)))]
pub async fn get_routing(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<RoutingSettings>, AppError> {
    let config = state
        .db
        .effective_routing(state.config.llm.daily_cost_limit_usd)
        .await
        .map_err(AppError::internal)?;
    Ok(Json(config.into()))
}

/// Replaces the routing rules and budget (400 `invalid_request` listing every problem).
#[utoipa::path(put, path = "/api/routing", tag = "chat", security(("bearer" = [])),
    request_body = RoutingSettings,
    responses((status = 200, body = RoutingSettings), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub async fn put_routing(
    State(state): State<AppState>,
    _op: Operator,
    ApiJson(body): ApiJson<RoutingSettings>,
) -> Result<Json<RoutingSettings>, AppError> {
    let config = body
        .into_config()
        .map_err(|problems| AppError::bad_request("invalid_request", problems.join("; ")))?;
    state.db.set_routing_config(&config).await.map_err(AppError::internal)?;
    let audit = NewAudit {
        actor: "operator".into(),
        source: "api".into(),
        tool: None,
        args: Some(serde_json::json!({"dailyBudgetUsd": config.daily_budget_usd})),
        tier: None,
        decision: Decision::RoutingUpdated,
        outcome: Outcome::Success,
        detail: None,
    };
    if let Err(e) = state.db.append_audit(audit).await {
        tracing::warn!(error = %e, "could not audit the routing change");
    }
    Ok(Json(config.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_listed() {
        let mut s: RoutingSettings = RoutingConfig::defaults(5.0).into();
        assert!(s.clone().into_config().is_ok());
        s.tool_keywords.clear();
        s.prefer_claude_for_tools = vec!["no_such_tool".into()];
        s.local_context_limit_tokens = 1;
        s.daily_budget_usd = -1.0;
        let problems = s.into_config().unwrap_err();
        let text = problems.join("\n");
        for needle in
            ["toolKeywords", "preferClaudeForTools", "localContextLimitTokens", "dailyBudgetUsd"]
        {
            assert!(text.contains(needle), "missing {needle} in {text}");
        }
    }
}
