//! `GET /api/cost/{summary,sessions,history,budget}`: LLM spend from the usage log.
//!
//! Days, weeks (from Monday) and months are the operator's, in `COST_TIMEZONE`; the math is
//! `jarvis_domain::cost` (summaries, windows, savings, budget), this file only loads rows and
//! shapes the answers. The budget is the stored routing settings' `dailyBudgetUsd`, else
//! `DAILY_COST_LIMIT`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use jarvis_domain::cost::{
    self, BudgetState, DayCost, ModelCost, Period, Summary, Window, daily_history,
    local_savings_usd, period_window,
};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::{IntoParams, ToSchema};

use super::chat::limit_param;
use crate::auth::Operator;
use crate::config::DEFAULT_CLAUDE_MODEL;
use crate::db::usage::SessionCost;
use crate::error::{ApiQuery, AppError, ErrorBody};
use crate::state::AppState;

/// Query of `GET /api/cost/summary`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SummaryParams {
    /// `daily` (default), `weekly` or `monthly`.
    pub period: Option<String>,
}

/// Spend of one (provider, model).
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ModelCostView {
    /// `claude` or `local`.
    pub provider: String,
    /// Model id.
    pub model: String,
    /// USD, rounded to 1e-6.
    pub cost_usd: f64,
    /// Input tokens (cache tokens included).
    #[ts(type = "number")]
    pub input_tokens: u64,
    /// Output tokens.
    #[ts(type = "number")]
    pub output_tokens: u64,
    /// Model calls.
    #[ts(type = "number")]
    pub messages: u64,
}

impl From<ModelCost> for ModelCostView {
    fn from(m: ModelCost) -> Self {
        ModelCostView {
            provider: m.provider.as_str().into(),
            model: m.model,
            cost_usd: m.cost_usd,
            input_tokens: m.input_tokens,
            output_tokens: m.output_tokens,
            messages: m.messages,
        }
    }
}

/// `GET /api/cost/summary` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CostSummary {
    /// `daily`, `weekly` or `monthly`.
    pub period: String,
    /// Window start.
    pub since: DateTime<Utc>,
    /// Window end (exclusive).
    pub until: DateTime<Utc>,
    /// USD, rounded to 1e-6.
    pub total_usd: f64,
    /// Per provider and model.
    pub by_model: Vec<ModelCostView>,
    /// Model calls.
    #[ts(type = "number")]
    pub messages: u64,
    /// Calls answered by Claude.
    #[ts(type = "number")]
    pub claude_messages: u64,
    /// Calls answered locally.
    #[ts(type = "number")]
    pub local_messages: u64,
    /// Share of calls answered locally, 0..1.
    pub local_share: f64,
    /// What the local calls would have cost on the configured Claude model.
    pub savings_usd: f64,
}

fn parse_period(raw: Option<&str>) -> Result<(Period, &'static str), AppError> {
    match raw.unwrap_or("daily") {
        "daily" => Ok((Period::Daily, "daily")),
        "weekly" => Ok((Period::Weekly, "weekly")),
        "monthly" => Ok((Period::Monthly, "monthly")),
        other => Err(AppError::bad_request(
            "invalid_query",
            format!("period `{other}` must be daily, weekly or monthly"),
        )),
    }
}

/// Spend over the operator's day, week or month.
#[utoipa::path(get, path = "/api/cost/summary", tag = "cost", security(("bearer" = [])),
    params(SummaryParams),
    responses((status = 200, body = CostSummary), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<SummaryParams>,
) -> Result<Json<CostSummary>, AppError> {
    let (period, name) = parse_period(p.period.as_deref())?;
    let llm = &state.config.llm;
    let window = period_window(period, Utc::now(), llm.cost_timezone);
    let records =
        state.db.usage_between(window.start, window.end).await.map_err(AppError::internal)?;
    let reference = llm.claude.as_ref().map_or(DEFAULT_CLAUDE_MODEL, |c| c.model.as_str());
    let savings_usd = local_savings_usd(&records, window, &llm.prices, reference);
    let s: Summary = cost::summarize(&records, window);
    Ok(Json(CostSummary {
        period: name.into(),
        since: s.since,
        until: s.until,
        total_usd: s.total_usd,
        by_model: s.by_model.into_iter().map(ModelCostView::from).collect(),
        messages: s.messages,
        claude_messages: s.claude_messages,
        local_messages: s.local_messages,
        local_share: s.local_share,
        savings_usd,
    }))
}

/// Query of `GET /api/cost/sessions`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CostSessionsParams {
    /// At most this many (1..=500, default 20), most expensive first.
    pub limit: Option<u32>,
}

/// `GET /api/cost/sessions` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct CostSessionList {
    /// Sessions with spend, most expensive first.
    pub sessions: Vec<SessionCost>,
}

/// Spend per chat session.
#[utoipa::path(get, path = "/api/cost/sessions", tag = "cost", security(("bearer" = [])),
    params(CostSessionsParams),
    responses((status = 200, body = CostSessionList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn sessions(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<CostSessionsParams>,
) -> Result<Json<CostSessionList>, AppError> {
    let limit = limit_param(p.limit, 20, 500)?;
    let sessions = state.db.cost_by_session(limit).await.map_err(AppError::internal)?;
    Ok(Json(CostSessionList { sessions }))
}

/// Query of `GET /api/cost/history`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    /// Operator days, today included (1..=366, default 30).
    pub days: Option<u32>,
}

/// One day of spend.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct DayCostView {
    /// The operator's calendar date (`YYYY-MM-DD`).
    #[ts(type = "string")]
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    /// USD, rounded to 1e-6.
    pub cost_usd: f64,
    /// Calls answered by Claude.
    #[ts(type = "number")]
    pub claude_messages: u64,
    /// Calls answered locally.
    #[ts(type = "number")]
    pub local_messages: u64,
}

impl From<DayCost> for DayCostView {
    fn from(d: DayCost) -> Self {
        DayCostView {
            date: d.date,
            cost_usd: d.cost_usd,
            claude_messages: d.claude_messages,
            local_messages: d.local_messages,
        }
    }
}

/// `GET /api/cost/history` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[ts(export)]
pub struct CostHistory {
    /// Oldest first; days without spend are zeros.
    pub history: Vec<DayCostView>,
}

/// Spend per operator day.
#[utoipa::path(get, path = "/api/cost/history", tag = "cost", security(("bearer" = [])),
    params(HistoryParams),
    responses((status = 200, body = CostHistory), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    _op: Operator,
    ApiQuery(p): ApiQuery<HistoryParams>,
) -> Result<Json<CostHistory>, AppError> {
    let days = p.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(AppError::bad_request(
            "invalid_query",
            format!("days {days} is outside 1..=366"),
        ));
    }
    let tz = state.config.llm.cost_timezone;
    let now = Utc::now();
    let first = period_window(Period::Daily, now - Duration::days(i64::from(days) - 1), tz);
    let today = period_window(Period::Daily, now, tz);
    let window = Window { start: first.start, end: today.end };
    let records =
        state.db.usage_between(window.start, window.end).await.map_err(AppError::internal)?;
    let history = daily_history(&records, days, now, tz).into_iter().map(Into::into).collect();
    Ok(Json(CostHistory { history }))
}

/// `GET /api/cost/budget` body.
#[derive(Debug, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BudgetView {
    /// The daily cap in USD (0 = no limit).
    pub daily_limit_usd: f64,
    /// Spent today (operator day).
    pub spent_usd: f64,
    /// Left today, never below 0 (0 without a limit).
    pub remaining_usd: f64,
    /// Percentage of the cap used (may exceed 100).
    pub percent_used: f64,
    /// The cap is reached (never with no limit).
    pub exceeded: bool,
    /// A cap is set.
    pub enabled: bool,
}

impl From<BudgetState> for BudgetView {
    fn from(b: BudgetState) -> Self {
        BudgetView {
            daily_limit_usd: b.daily_limit_usd,
            spent_usd: b.spent_usd,
            remaining_usd: b.remaining_usd,
            percent_used: b.percent_used,
            exceeded: b.exceeded,
            enabled: b.enabled,
        }
    }
}

/// The budget as it stands now: the routing settings' cap (else `DAILY_COST_LIMIT`) against
/// today's spend.
pub async fn current_budget(state: &AppState) -> Result<BudgetState, crate::db::DbError> {
    let llm = &state.config.llm;
    let routing = state.db.effective_routing(llm.daily_cost_limit_usd).await?;
    state.db.budget_state(routing.daily_budget_usd, Utc::now(), llm.cost_timezone).await
}

/// Today's spend against the daily cap.
#[utoipa::path(get, path = "/api/cost/budget", tag = "cost", security(("bearer" = [])),
    responses((status = 200, body = BudgetView), (status = 401, body = ErrorBody)))]
pub async fn budget(
    State(state): State<AppState>,
    _op: Operator,
) -> Result<Json<BudgetView>, AppError> {
    Ok(Json(current_budget(&state).await.map_err(AppError::internal)?.into()))
}
