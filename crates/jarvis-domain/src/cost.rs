//! Token cost math (ROUTE-05/06/10): the model price table, per-call cost, the daily budget,
//! the operator's day/week/month windows and the spend summaries.
//!
//! It fixes the original's cost bugs by construction: windows are real instants compared as
//! instants (never timestamp strings), so today's spend is never 0 and the cap trips; prices are
//! looked up by *model*, not provider; and [`Usage`] holds real token counts, which the server
//! must take from the provider's usage report (never stream-chunk counts).
//!
//! Decisions:
//! - **Unknown Claude model → conservative fallback**: it is priced at the most expensive entry
//!   in the table (by output price), so spend is over- rather than under-counted and the budget
//!   trips early rather than late. [`PriceTable::lookup`] says so ([`PriceSource::Fallback`]) so
//!   the server can log a warning. Local models cost 0 unless the table prices them.
//! - Model ids match exactly, else by the longest table key that is a `-`-separated prefix
//!   (`claude-sonnet-4-20250514` → `claude-sonnet-4`).
//! - Missing cache prices default to Anthropic's ratios: read 0.1× input, write 1.25× input.
//! - **A daily limit ≤ 0 (or not finite) disables the cap**: never exceeded, `enabled: false`.
//! - **At the limit is exceeded** (`spent >= limit`, compared at 1e-6 USD): the cap is reached.
//! - Windows are half-open `[start, end)`: 23:59:59 belongs to the day, 00:00:00 to the next.
//!   Weeks are ISO weeks starting Monday; months start on the 1st, in the operator's offset.
//! - Costs are exact `f64`s; everything presented (summaries, budget) is rounded to 1e-6 USD.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, FixedOffset, Months, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

pub use crate::routing::Provider;

/// One model's prices in USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelPrice {
    /// Input (prompt) tokens.
    pub input_per_mtok: f64,
    /// Output (completion) tokens.
    pub output_per_mtok: f64,
    /// Cache-read input tokens; `None` = 0.1 × input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_per_mtok: Option<f64>,
    /// Cache-write input tokens; `None` = 1.25 × input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_per_mtok: Option<f64>,
}

impl ModelPrice {
    /// A price with the default cache ratios.
    pub const fn new(input_per_mtok: f64, output_per_mtok: f64) -> Self {
        ModelPrice {
            input_per_mtok,
            output_per_mtok,
            cache_read_per_mtok: None,
            cache_write_per_mtok: None,
        }
    }

    /// Free (local models).
    pub const FREE: ModelPrice = ModelPrice::new(0.0, 0.0);

    /// Exact USD cost of `usage` at this price.
    pub fn cost(&self, usage: &Usage) -> f64 {
        let read = self.cache_read_per_mtok.unwrap_or(self.input_per_mtok * 0.1);
        let write = self.cache_write_per_mtok.unwrap_or(self.input_per_mtok * 1.25);
        (usage.input_tokens as f64 * self.input_per_mtok
            + usage.output_tokens as f64 * self.output_per_mtok
            + usage.cache_read_tokens.unwrap_or(0) as f64 * read
            + usage.cache_write_tokens.unwrap_or(0) as f64 * write)
            / 1_000_000.0
    }
}

/// Most expensive price used when the table is empty (Opus 4 rates).
const EMPTY_TABLE_FALLBACK: ModelPrice = ModelPrice::new(15.0, 75.0);

/// Prices by model id; configurable (ROUTE-05). See the module docs for lookup rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceTable {
    /// Model id (or id prefix) → price.
    pub models: BTreeMap<String, ModelPrice>,
}

/// How [`PriceTable::lookup`] found a price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriceSource {
    /// The model id is a table key.
    Exact,
    /// The longest table key that is a `-`-prefix of the id.
    Prefix(String),
    /// A local model not in the table: free.
    Local,
    /// An unknown Claude model, priced at the most expensive entry.
    Fallback,
}

impl Default for PriceTable {
    /// Current Claude models (USD per million tokens) and the common local model, free.
    fn default() -> Self {
        let cached = |i: f64, o: f64, r: f64, w: f64| ModelPrice {
            input_per_mtok: i,
            output_per_mtok: o,
            cache_read_per_mtok: Some(r),
            cache_write_per_mtok: Some(w),
        };
        let models = [
            ("claude-opus-4", cached(15.0, 75.0, 1.5, 18.75)),
            ("claude-opus-4-5", cached(5.0, 25.0, 0.5, 6.25)),
            ("claude-sonnet-4", cached(3.0, 15.0, 0.3, 3.75)),
            ("claude-3-7-sonnet", cached(3.0, 15.0, 0.3, 3.75)),
            ("claude-haiku-4-5", cached(1.0, 5.0, 0.1, 1.25)),
            ("claude-haiku-3-5", cached(0.8, 4.0, 0.08, 1.0)),
            ("claude-3-5-haiku", cached(0.8, 4.0, 0.08, 1.0)),
            ("qwen2.5-7b-instruct-q4_k_m.gguf", ModelPrice::FREE),
        ];
        PriceTable { models: models.into_iter().map(|(k, v)| (k.to_owned(), v)).collect() }
    }
}

impl PriceTable {
    /// The price for `model` from `provider`, and how it was found.
    pub fn lookup(&self, provider: Provider, model: &str) -> (ModelPrice, PriceSource) {
        if let Some(price) = self.models.get(model) {
            return (*price, PriceSource::Exact);
        }
        let prefix = self
            .models
            .iter()
            .filter(|(key, _)| model.strip_prefix(key.as_str()).is_some_and(|r| r.starts_with('-')))
            .max_by_key(|(key, _)| key.len());
        if let Some((key, price)) = prefix {
            return (*price, PriceSource::Prefix(key.clone()));
        }
        match provider {
            Provider::Local => (ModelPrice::FREE, PriceSource::Local),
            Provider::Claude => (self.most_expensive(), PriceSource::Fallback),
        }
    }

    /// The most expensive entry (by output, then input price).
    fn most_expensive(&self) -> ModelPrice {
        self.models
            .values()
            .copied()
            .max_by(|a, b| {
                (a.output_per_mtok, a.input_per_mtok)
                    .partial_cmp(&(b.output_per_mtok, b.input_per_mtok))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .unwrap_or(EMPTY_TABLE_FALLBACK)
    }

    /// Checks an operator-edited table: non-blank ids, finite non-negative prices.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        for (model, p) in &self.models {
            if model.trim().is_empty() {
                errors.push("models: blank model id".to_owned());
            }
            let prices = [
                Some(p.input_per_mtok),
                Some(p.output_per_mtok),
                p.cache_read_per_mtok,
                p.cache_write_per_mtok,
            ];
            if prices.into_iter().flatten().any(|x| !x.is_finite() || x < 0.0) {
                errors.push(format!("models.{model}: prices must be finite and >= 0"));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// Token usage of one model call (real counts from the provider's usage report).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens read from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_tokens: Option<u64>,
    /// Input tokens written to the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
}

impl Usage {
    /// Plain input/output usage.
    pub const fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Usage { input_tokens, output_tokens, cache_read_tokens: None, cache_write_tokens: None }
    }
}

/// Exact USD cost of one call (not rounded; round with [`round_usd`] to present).
pub fn cost_usd(table: &PriceTable, provider: Provider, model: &str, usage: &Usage) -> f64 {
    table.lookup(provider, model).0.cost(usage)
}

/// Rounds USD to 1e-6 (what the API presents).
pub fn round_usd(usd: f64) -> f64 {
    (usd * 1_000_000.0).round() / 1_000_000.0
}

/// The daily spend cap (ROUTE-06), `DAILY_COST_LIMIT`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    /// USD per operator day; ≤ 0 disables the cap.
    pub daily_limit_usd: f64,
}

/// The budget as `GET /api/cost/budget` returns it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetState {
    /// The limit (0 when disabled).
    pub daily_limit_usd: f64,
    /// Spent today (rounded to 1e-6; negative or NaN input counts as 0).
    pub spent_usd: f64,
    /// `limit - spent`, never below 0 (0 when disabled).
    pub remaining_usd: f64,
    /// Spent as a percentage of the limit, one decimal; may exceed 100 (0 when disabled).
    pub percent_used: f64,
    /// `spent >= limit` with the cap enabled.
    pub exceeded: bool,
    /// Whether a cap is set.
    pub enabled: bool,
}

impl Budget {
    /// Whether the cap is active (a finite limit above 0).
    pub fn enabled(&self) -> bool {
        self.daily_limit_usd.is_finite() && self.daily_limit_usd > 0.0
    }

    /// The budget state after `spent_today` USD.
    pub fn state(&self, spent_today: f64) -> BudgetState {
        let spent =
            if spent_today.is_finite() && spent_today > 0.0 { round_usd(spent_today) } else { 0.0 };
        if !self.enabled() {
            return BudgetState {
                daily_limit_usd: 0.0,
                spent_usd: spent,
                remaining_usd: 0.0,
                percent_used: 0.0,
                exceeded: false,
                enabled: false,
            };
        }
        let limit = round_usd(self.daily_limit_usd);
        BudgetState {
            daily_limit_usd: limit,
            spent_usd: spent,
            remaining_usd: round_usd((limit - spent).max(0.0)),
            percent_used: (spent / limit * 1000.0).round() / 10.0,
            exceeded: spent >= limit,
            enabled: true,
        }
    }
}

/// A spend period (`?period=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// The operator's today.
    Daily,
    /// The ISO week (Monday 00:00) containing today.
    Weekly,
    /// The calendar month containing today.
    Monthly,
}

/// A half-open instant range `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    /// First instant inside.
    pub start: DateTime<Utc>,
    /// First instant after.
    pub end: DateTime<Utc>,
}

impl Window {
    /// Whether `at` is inside.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

/// Local midnight of `date` in `tz`, as UTC.
fn local_midnight(date: NaiveDate, tz: FixedOffset) -> DateTime<Utc> {
    let naive =
        date.and_time(chrono::NaiveTime::MIN) - Duration::seconds(i64::from(tz.local_minus_utc()));
    Utc.from_utc_datetime(&naive)
}

/// `now`'s calendar date in `tz`.
fn local_date(now: DateTime<Utc>, tz: FixedOffset) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// "Today" in the operator's offset `tz`, as a UTC `[start, end)`.
pub fn day_window(now: DateTime<Utc>, tz: FixedOffset) -> (DateTime<Utc>, DateTime<Utc>) {
    let w = period_window(Period::Daily, now, tz);
    (w.start, w.end)
}

/// The `period` containing `now`, in the operator's offset `tz`.
pub fn period_window(period: Period, now: DateTime<Utc>, tz: FixedOffset) -> Window {
    let today = local_date(now, tz);
    let (first, next) = match period {
        Period::Daily => (today, today.succ_opt().unwrap_or(NaiveDate::MAX)),
        Period::Weekly => {
            let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
            (monday, monday + Duration::days(7))
        }
        Period::Monthly => {
            let first = today.with_day(1).unwrap_or(today);
            (first, first.checked_add_months(Months::new(1)).unwrap_or(NaiveDate::MAX))
        }
    };
    Window { start: local_midnight(first, tz), end: local_midnight(next, tz) }
}

/// One persisted model call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostRecord {
    /// When the call finished.
    pub at: DateTime<Utc>,
    /// Who answered.
    pub provider: Provider,
    /// The exact model id.
    pub model: String,
    /// Real token counts.
    pub usage: Usage,
    /// Exact cost at the time of the call.
    pub cost_usd: f64,
}

/// Spend for one (provider, model) — an entry of `byModel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelCost {
    /// Provider.
    pub provider: Provider,
    /// Model id.
    pub model: String,
    /// USD, rounded to 1e-6.
    pub cost_usd: f64,
    /// Input tokens (cache tokens included).
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Model calls.
    pub messages: u64,
}

/// Spend over a window (`GET /api/cost/summary`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Window start.
    pub since: DateTime<Utc>,
    /// Window end (exclusive).
    pub until: DateTime<Utc>,
    /// USD, rounded to 1e-6.
    pub total_usd: f64,
    /// Per (provider, model), sorted by provider then model.
    pub by_model: Vec<ModelCost>,
    /// All calls.
    pub messages: u64,
    /// Calls answered by Claude.
    pub claude_messages: u64,
    /// Calls answered locally.
    pub local_messages: u64,
    /// `local_messages / messages`, 0 with no messages.
    pub local_share: f64,
}

/// Sums `records` inside `window`, grouped by (provider, model).
pub fn summarize(records: &[CostRecord], window: Window) -> Summary {
    let mut groups: BTreeMap<(Provider, &str), (f64, ModelCost)> = BTreeMap::new();
    let (mut total, mut claude, mut local) = (0.0, 0, 0);
    for r in records.iter().filter(|r| window.contains(r.at)) {
        let (exact, g) = groups.entry((r.provider, r.model.as_str())).or_insert_with(|| {
            let g = ModelCost {
                provider: r.provider,
                model: r.model.clone(),
                cost_usd: 0.0,
                input_tokens: 0,
                output_tokens: 0,
                messages: 0,
            };
            (0.0, g)
        });
        let u = &r.usage;
        *exact += r.cost_usd;
        g.input_tokens +=
            u.input_tokens + u.cache_read_tokens.unwrap_or(0) + u.cache_write_tokens.unwrap_or(0);
        g.output_tokens += u.output_tokens;
        g.messages += 1;
        total += r.cost_usd;
        match r.provider {
            Provider::Claude => claude += 1,
            Provider::Local => local += 1,
        }
    }
    let messages = claude + local;
    Summary {
        since: window.start,
        until: window.end,
        total_usd: round_usd(total),
        by_model: groups
            .into_values()
            .map(|(exact, g)| ModelCost { cost_usd: round_usd(exact), ..g })
            .collect(),
        messages,
        claude_messages: claude,
        local_messages: local,
        local_share: if messages == 0 { 0.0 } else { local as f64 / messages as f64 },
    }
}

/// What the local calls in `window` would have cost at `reference_model`'s Claude price — the
/// "savings from local routing" of the cost panel (ROUTE-10), rounded to 1e-6.
pub fn local_savings_usd(
    records: &[CostRecord],
    window: Window,
    table: &PriceTable,
    reference_model: &str,
) -> f64 {
    let price = table.lookup(Provider::Claude, reference_model).0;
    round_usd(
        records
            .iter()
            .filter(|r| r.provider == Provider::Local && window.contains(r.at))
            .map(|r| price.cost(&r.usage))
            .sum(),
    )
}

/// One day of `GET /api/cost/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DayCost {
    /// The operator's calendar date.
    pub date: NaiveDate,
    /// USD, rounded to 1e-6.
    pub cost_usd: f64,
    /// Calls answered by Claude.
    pub claude_messages: u64,
    /// Calls answered locally.
    pub local_messages: u64,
}

/// The last `days` operator days (today included, oldest first; `days` clamped to 1..=366).
pub fn daily_history(
    records: &[CostRecord],
    days: u32,
    now: DateTime<Utc>,
    tz: FixedOffset,
) -> Vec<DayCost> {
    let today = local_date(now, tz);
    (0..i64::from(days.clamp(1, 366)))
        .rev()
        .map(|back| {
            let date = today - Duration::days(back);
            let s = summarize(
                records,
                Window {
                    start: local_midnight(date, tz),
                    end: local_midnight(date + Duration::days(1), tz),
                },
            );
            DayCost {
                date,
                cost_usd: s.total_usd,
                claude_messages: s.claude_messages,
                local_messages: s.local_messages,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
