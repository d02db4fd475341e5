//! The LLM usage log: one row per model call, the source of every cost figure and of the daily
//! budget. The math (prices, windows, summaries) lives in `jarvis_domain::cost`; this module
//! stores rows and reads them back by half-open time range `[start, end)`. Timestamps are the
//! fixed-width [`timestamp`] format, so SQL text comparison orders them as instants.
//!
//! Retention (`db::retention`) folds rows past `RETENTION_USAGE_DAYS` into `llm_usage_hourly`
//! (one row per hour, provider, model and session, with its call count); every read here goes
//! through [`ALL_USAGE`], the union of both, so totals, per-day message counts and per-session
//! spend are the same before and after a rollup.

use chrono::{DateTime, FixedOffset, Utc};
use jarvis_domain::cost::{
    Budget, BudgetState, CostRecord, Provider, Usage, day_window, round_usd,
};
use serde::Serialize;
use ts_rs::TS;
use utoipa::ToSchema;

use super::{Db, DbError, parse_time, timestamp};

/// Per-call rows and hourly rollups as one relation: `at, provider, model, session_id, calls,
/// input, output, cache read, cache write, cost, id` (rollups have id 0, at = the hour).
const ALL_USAGE: &str = "(SELECT at, provider, model, session_id, 1 AS calls, input_tokens,
        output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, id FROM llm_usage
    UNION ALL
    SELECT hour, provider, model, NULLIF(session_id, ''), calls, input_tokens, output_tokens,
        cache_read_tokens, cache_write_tokens, cost_usd, 0 FROM llm_usage_hourly)";

/// One model call to record.
#[derive(Debug, Clone)]
pub struct NewUsage {
    /// The chat session, if the call belonged to one.
    pub session_id: Option<String>,
    /// When the call finished.
    pub at: DateTime<Utc>,
    /// Who answered.
    pub provider: Provider,
    /// The exact model id.
    pub model: String,
    /// Real token counts from the provider's usage report.
    pub usage: Usage,
    /// Cost in USD (`jarvis_domain::cost::cost_usd`).
    pub cost_usd: f64,
    /// The counts are estimates (the provider reported none, e.g. an aborted stream).
    pub estimated: bool,
}

/// Spend of one session (`GET /api/cost/sessions`).
#[derive(Debug, Clone, PartialEq, Serialize, TS, ToSchema)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SessionCost {
    /// The session.
    pub session_id: String,
    /// Its title.
    pub title: String,
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
    /// The session's last activity.
    pub updated_at: DateTime<Utc>,
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn uncount(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Db {
    /// Records one model call.
    pub async fn record_llm_usage(&self, u: NewUsage) -> Result<(), DbError> {
        let at = timestamp(u.at);
        self.call(move |c| {
            c.execute(
                "INSERT INTO llm_usage (session_id, at, provider, model, input_tokens,
                    output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, estimated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                rusqlite::params![
                    u.session_id,
                    at,
                    u.provider.as_str(),
                    u.model,
                    count(u.usage.input_tokens),
                    count(u.usage.output_tokens),
                    count(u.usage.cache_read_tokens.unwrap_or(0)),
                    count(u.usage.cache_write_tokens.unwrap_or(0)),
                    if u.cost_usd.is_finite() { u.cost_usd.max(0.0) } else { 0.0 },
                    u.estimated,
                ],
            )
            .map(|_| ())
        })
        .await
    }

    /// Every call in `[start, end)`, oldest first.
    pub async fn usage_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<CostRecord>, DbError> {
        let (start, end) = (timestamp(start), timestamp(end));
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT at, provider, model, input_tokens, output_tokens, cache_read_tokens,
                        cache_write_tokens, cost_usd, calls
                 FROM {ALL_USAGE} WHERE at >= ?1 AND at < ?2 ORDER BY at, id"
            ))?;
            let rows = stmt.query_map((start, end), |r| {
                let cache = |i: usize| -> rusqlite::Result<Option<u64>> {
                    Ok(Some(uncount(r.get(i)?)).filter(|n| *n > 0))
                };
                let provider: String = r.get(1)?;
                let calls = uncount(r.get(8)?);
                let record = CostRecord {
                    at: parse_time(&r.get::<_, String>(0)?),
                    provider: if provider == "claude" { Provider::Claude } else { Provider::Local },
                    model: r.get(2)?,
                    usage: Usage {
                        input_tokens: uncount(r.get(3)?),
                        output_tokens: uncount(r.get(4)?),
                        cache_read_tokens: cache(5)?,
                        cache_write_tokens: cache(6)?,
                    },
                    cost_usd: r.get(7)?,
                };
                Ok((record, calls))
            })?;
            // A rollup of `calls` calls reads as one record carrying its sums and `calls - 1`
            // empty ones, so message counts stay exact without a count in `CostRecord`.
            let mut out = Vec::new();
            for row in rows {
                let (record, calls) = row?;
                let empty = CostRecord { usage: Usage::default(), cost_usd: 0.0, ..record.clone() };
                out.push(record);
                out.extend((1..calls).map(|_| empty.clone()));
            }
            Ok(out)
        })
        .await
    }

    /// Exact USD spent in `[start, end)` (summed in SQL).
    pub async fn spent_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<f64, DbError> {
        let (start, end) = (timestamp(start), timestamp(end));
        self.call(move |c| {
            c.query_row(
                &format!(
                    "SELECT COALESCE(SUM(cost_usd), 0) FROM {ALL_USAGE} WHERE at >= ?1 AND at < ?2"
                ),
                (start, end),
                |r| r.get(0),
            )
        })
        .await
    }

    /// The budget after today's spend: today is the operator's day (offset `tz`) containing
    /// `now`; `daily_limit_usd` ≤ 0 means no cap.
    pub async fn budget_state(
        &self,
        daily_limit_usd: f64,
        now: DateTime<Utc>,
        tz: FixedOffset,
    ) -> Result<BudgetState, DbError> {
        let (start, end) = day_window(now, tz);
        let spent = self.spent_between(start, end).await?;
        Ok(Budget { daily_limit_usd }.state(spent))
    }

    /// Sessions with recorded spend, most expensive first (`limit` clamped to 1..=500).
    pub async fn cost_by_session(&self, limit: usize) -> Result<Vec<SessionCost>, DbError> {
        let limit = count(limit.clamp(1, 500) as u64);
        self.call(move |c| {
            let mut stmt = c.prepare(&format!(
                "SELECT s.id, s.title, SUM(u.cost_usd),
                        SUM(u.input_tokens + u.cache_read_tokens + u.cache_write_tokens),
                        SUM(u.output_tokens), SUM(u.calls), s.updated_at
                 FROM {ALL_USAGE} u JOIN chat_sessions s ON s.id = u.session_id
                 GROUP BY s.id ORDER BY SUM(u.cost_usd) DESC, s.updated_at DESC LIMIT ?1"
            ))?;
            let rows = stmt.query_map([limit], |r| {
                Ok(SessionCost {
                    session_id: r.get(0)?,
                    title: r.get(1)?,
                    cost_usd: round_usd(r.get(2)?),
                    input_tokens: uncount(r.get(3)?),
                    output_tokens: uncount(r.get(4)?),
                    messages: uncount(r.get(5)?),
                    updated_at: parse_time(&r.get::<_, String>(6)?),
                })
            })?;
            rows.collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn usage(at_: &str, provider: Provider, cost: f64, session: Option<&str>) -> NewUsage {
        NewUsage {
            session_id: session.map(str::to_owned),
            at: at(at_),
            provider,
            model: if provider == Provider::Claude { "claude-sonnet-4-5" } else { "local" }.into(),
            usage: Usage { cache_read_tokens: Some(5), ..Usage::new(100, 20) },
            cost_usd: cost,
            estimated: false,
        }
    }

    async fn db(dir: &tempfile::TempDir) -> Db {
        Db::open(&dir.path().join("u.db")).await.unwrap()
    }

    #[tokio::test]
    async fn ranges_are_half_open_and_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(&dir).await;
        db.record_llm_usage(usage("2026-03-01T23:59:00Z", Provider::Claude, 1.5, None))
            .await
            .unwrap();
        db.record_llm_usage(usage("2026-03-02T00:00:00Z", Provider::Local, 0.0, None))
            .await
            .unwrap();
        db.record_llm_usage(usage("2026-03-02T00:01:00Z", Provider::Claude, 0.25, None))
            .await
            .unwrap();
        let day = (at("2026-03-02T00:00:00Z"), at("2026-03-03T00:00:00Z"));
        assert_eq!(db.spent_between(day.0, day.1).await.unwrap(), 0.25);
        let records = db.usage_between(day.0, day.1).await.unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].provider, Provider::Local);
        assert_eq!(records[0].at, at("2026-03-02T00:00:00Z"));
        assert_eq!(records[1].usage.cache_read_tokens, Some(5));
        assert_eq!(records[1].usage.input_tokens, 100);
        let before = db.spent_between(at("2026-03-01T00:00:00Z"), day.0).await.unwrap();
        assert_eq!(before, 1.5);
    }

    #[tokio::test]
    async fn budget_counts_only_the_operators_day() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(&dir).await;
        db.record_llm_usage(usage("2026-03-01T23:59:00Z", Provider::Claude, 4.0, None))
            .await
            .unwrap();
        db.record_llm_usage(usage("2026-03-02T00:01:00Z", Provider::Claude, 0.5, None))
            .await
            .unwrap();
        let utc = FixedOffset::east_opt(0).unwrap();
        let now = at("2026-03-02T10:00:00Z");
        let state = db.budget_state(1.0, now, utc).await.unwrap();
        assert_eq!((state.spent_usd, state.exceeded), (0.5, false));
        // At +02:00 both calls fall on March 2nd (01:59 and 02:01 local).
        let plus2 = FixedOffset::east_opt(7200).unwrap();
        let state = db.budget_state(1.0, now, plus2).await.unwrap();
        assert_eq!((state.spent_usd, state.exceeded), (4.5, true));
        let state = db.budget_state(0.0, now, plus2).await.unwrap();
        assert!(!state.exceeded && !state.enabled);
    }

    #[tokio::test]
    async fn cost_by_session_groups_and_survives_session_deletion() {
        let dir = tempfile::tempdir().unwrap();
        let db = db(&dir).await;
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 10, 0, 0).unwrap();
        for (id, title) in [("a", "cheap"), ("b", "dear"), ("c", "free")] {
            db.create_chat_session(id.into(), title.into(), "operator".into(), now).await.unwrap();
        }
        for (session, cost) in [("a", 0.1), ("b", 1.0), ("b", 2.0)] {
            db.record_llm_usage(usage(
                "2026-03-02T09:00:00Z",
                Provider::Claude,
                cost,
                Some(session),
            ))
            .await
            .unwrap();
        }
        let rows = db.cost_by_session(10).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.session_id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!((rows[0].cost_usd, rows[0].messages), (3.0, 2));
        assert_eq!((rows[0].input_tokens, rows[0].output_tokens), (210, 40));
        assert_eq!(rows[0].title, "dear");
        db.call(|c| c.execute("DELETE FROM chat_sessions WHERE id = 'b'", [])).await.unwrap();
        let all = db.spent_between(at("2026-03-02T00:00:00Z"), now).await.unwrap();
        assert!((all - 3.1).abs() < 1e-9, "spend outlives the session: {all}");
        assert_eq!(db.cost_by_session(10).await.unwrap().len(), 1);
    }
}
