//! Cost tests: prices, rounding, budget, windows across midnight and offsets, summaries.

use super::*;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}
fn tz(s: &str) -> FixedOffset {
    s.parse().unwrap()
}
fn rec(t: &str, provider: Provider, model: &str, i: u64, o: u64, usd: f64) -> CostRecord {
    let usage = Usage::new(i, o);
    CostRecord { at: at(t), provider, model: model.into(), usage, cost_usd: usd }
}

#[test]
fn prices_by_model_not_provider() {
    let t = PriceTable::default();
    let u = Usage::new(1000, 500);
    let cases = [
        (
            Provider::Claude,
            "claude-sonnet-4-20250514",
            0.0105,
            PriceSource::Prefix("claude-sonnet-4".into()),
        ),
        (Provider::Claude, "claude-sonnet-4", 0.0105, PriceSource::Exact),
        (
            Provider::Claude,
            "claude-opus-4-20250514",
            0.0525,
            PriceSource::Prefix("claude-opus-4".into()),
        ),
        (
            Provider::Claude,
            "claude-opus-4-5-20251101",
            0.0175,
            PriceSource::Prefix("claude-opus-4-5".into()),
        ),
        (
            Provider::Claude,
            "claude-3-5-haiku-20241022",
            0.0028,
            PriceSource::Prefix("claude-3-5-haiku".into()),
        ),
        (Provider::Claude, "claude-haiku-3-5", 0.0028, PriceSource::Exact),
        (Provider::Local, "qwen2.5-7b-instruct-q4_k_m.gguf", 0.0, PriceSource::Exact),
        (Provider::Local, "llama-3.1-8b", 0.0, PriceSource::Local),
        (Provider::Claude, "claude-future-9", 0.0525, PriceSource::Fallback),
        (Provider::Claude, "claude-sonnet-40", 0.0525, PriceSource::Fallback),
    ];
    for (provider, model, want, source) in cases {
        assert_eq!(round_usd(cost_usd(&t, provider, model, &u)), want, "{model}");
        assert_eq!(t.lookup(provider, model).1, source, "{model}");
    }
    let million = Usage::new(1_000_000, 1_000_000);
    assert_eq!(cost_usd(&t, Provider::Claude, "claude-sonnet-4", &million), 18.0);
    assert_eq!(cost_usd(&t, Provider::Claude, "claude-sonnet-4", &Usage::default()), 0.0);
    let empty = PriceTable { models: BTreeMap::new() };
    assert_eq!(empty.lookup(Provider::Claude, "x").0, EMPTY_TABLE_FALLBACK);
}

#[test]
fn cache_tokens() {
    let t = PriceTable::default();
    let u = Usage {
        input_tokens: 0,
        output_tokens: 0,
        cache_read_tokens: Some(1_000_000),
        cache_write_tokens: Some(1_000_000),
    };
    assert_eq!(round_usd(cost_usd(&t, Provider::Claude, "claude-sonnet-4", &u)), 4.05);
    let p = ModelPrice::new(10.0, 0.0);
    assert_eq!(round_usd(p.cost(&u)), 13.5, "default ratios 0.1 and 1.25");
}

#[test]
fn price_table_validation_and_serde() {
    assert_eq!(PriceTable::default().validate(), Ok(()));
    let mut t = PriceTable::default();
    t.models.insert(" ".into(), ModelPrice::new(-1.0, f64::NAN));
    assert_eq!(t.validate().unwrap_err().len(), 2);
    let json = serde_json::to_value(PriceTable::default()).unwrap();
    assert_eq!(json["models"]["claude-sonnet-4"]["inputPerMtok"], 3.0);
    assert_eq!(json["models"]["claude-sonnet-4"]["cacheReadPerMtok"], 0.3);
}

#[test]
fn rounding() {
    assert_eq!(round_usd(0.000_000_4), 0.0);
    assert_eq!(round_usd(0.000_000_6), 0.000_001);
    assert_eq!(round_usd(0.1 + 0.2), 0.3);
}

#[test]
fn budget_states() {
    let b = Budget { daily_limit_usd: 10.0 };
    let s = b.state(0.0);
    assert_eq!((s.remaining_usd, s.percent_used, s.exceeded, s.enabled), (10.0, 0.0, false, true));
    let s = b.state(2.5);
    assert_eq!((s.spent_usd, s.remaining_usd, s.percent_used, s.exceeded), (2.5, 7.5, 25.0, false));
    assert!(!b.state(9.999_998).exceeded);
    assert!(b.state(10.0).exceeded, "at the limit is exceeded");
    assert!(b.state(9.999_999_9).exceeded, "compared at 1e-6");
    let s = b.state(15.0);
    assert_eq!((s.remaining_usd, s.percent_used, s.exceeded), (0.0, 150.0, true));
    assert_eq!(b.state(1.0 / 3.0).percent_used, 3.3);
    for bad in [-1.0, f64::NAN] {
        assert_eq!(b.state(bad).spent_usd, 0.0);
    }
    for off in [0.0, -5.0, f64::INFINITY, f64::NAN] {
        let s = Budget { daily_limit_usd: off }.state(100.0);
        assert_eq!(
            (s.enabled, s.exceeded, s.remaining_usd, s.spent_usd),
            (false, false, 0.0, 100.0)
        );
    }
    let json = serde_json::to_value(b.state(1.0)).unwrap();
    for k in ["dailyLimitUsd", "spentUsd", "remainingUsd", "percentUsed", "exceeded"] {
        assert!(json.get(k).is_some(), "{k}");
    }
}

#[test]
fn windows() {
    // (period, now, offset, start, end)
    let cases = [
        (
            Period::Daily,
            "2026-11-21T23:59:59Z",
            "+00:00",
            "2026-11-21T00:00:00Z",
            "2026-11-22T00:00:00Z",
        ),
        (
            Period::Daily,
            "2026-11-22T00:00:00Z",
            "+00:00",
            "2026-11-22T00:00:00Z",
            "2026-11-23T00:00:00Z",
        ),
        (
            Period::Daily,
            "2026-11-21T22:30:00Z",
            "+02:00",
            "2026-11-21T22:00:00Z",
            "2026-11-22T22:00:00Z",
        ),
        (
            Period::Daily,
            "2026-11-21T21:59:59Z",
            "+02:00",
            "2026-11-20T22:00:00Z",
            "2026-11-21T22:00:00Z",
        ),
        (
            Period::Daily,
            "2026-11-22T03:00:00Z",
            "-05:00",
            "2026-11-21T05:00:00Z",
            "2026-11-22T05:00:00Z",
        ),
        (
            Period::Daily,
            "2026-11-22T05:00:00Z",
            "-05:00",
            "2026-11-22T05:00:00Z",
            "2026-11-23T05:00:00Z",
        ),
        (
            Period::Daily,
            "2028-02-29T12:00:00Z",
            "+00:00",
            "2028-02-29T00:00:00Z",
            "2028-03-01T00:00:00Z",
        ),
        // 2026-11-21 is a Saturday; 2026-11-23 a Monday
        (
            Period::Weekly,
            "2026-11-21T12:00:00Z",
            "+00:00",
            "2026-11-16T00:00:00Z",
            "2026-11-23T00:00:00Z",
        ),
        (
            Period::Weekly,
            "2026-11-22T23:59:59Z",
            "+00:00",
            "2026-11-16T00:00:00Z",
            "2026-11-23T00:00:00Z",
        ),
        (
            Period::Weekly,
            "2026-11-23T00:00:00Z",
            "+00:00",
            "2026-11-23T00:00:00Z",
            "2026-11-30T00:00:00Z",
        ),
        (
            Period::Weekly,
            "2026-11-22T23:30:00Z",
            "+02:00",
            "2026-11-22T22:00:00Z",
            "2026-11-29T22:00:00Z",
        ),
        (
            Period::Weekly,
            "2026-11-23T03:00:00Z",
            "-05:00",
            "2026-11-16T05:00:00Z",
            "2026-11-23T05:00:00Z",
        ),
        (
            Period::Weekly,
            "2026-12-31T12:00:00Z",
            "+00:00",
            "2026-12-28T00:00:00Z",
            "2027-01-04T00:00:00Z",
        ),
        (
            Period::Monthly,
            "2026-11-30T23:59:59Z",
            "+00:00",
            "2026-11-01T00:00:00Z",
            "2026-12-01T00:00:00Z",
        ),
        (
            Period::Monthly,
            "2026-12-01T00:00:00Z",
            "+00:00",
            "2026-12-01T00:00:00Z",
            "2027-01-01T00:00:00Z",
        ),
        (
            Period::Monthly,
            "2026-11-30T22:00:00Z",
            "+02:00",
            "2026-11-30T22:00:00Z",
            "2026-12-31T22:00:00Z",
        ),
        (
            Period::Monthly,
            "2026-12-01T04:00:00Z",
            "-05:00",
            "2026-11-01T05:00:00Z",
            "2026-12-01T05:00:00Z",
        ),
        (
            Period::Monthly,
            "2028-02-15T00:00:00Z",
            "+00:00",
            "2028-02-01T00:00:00Z",
            "2028-03-01T00:00:00Z",
        ),
    ];
    for (p, now, off, start, end) in cases {
        let w = period_window(p, at(now), tz(off));
        assert_eq!((w.start, w.end), (at(start), at(end)), "{p:?} {now} {off}");
        assert!(w.contains(at(now)) && w.contains(at(start)) && !w.contains(at(end)));
    }
    assert_eq!(
        day_window(at("2026-11-21T10:00:00Z"), tz("+00:00")),
        (at("2026-11-21T00:00:00Z"), at("2026-11-22T00:00:00Z"))
    );
    assert_eq!(serde_json::to_value(Period::Weekly).unwrap(), "weekly");
}

fn records() -> Vec<CostRecord> {
    vec![
        rec("2026-11-20T23:59:59Z", Provider::Claude, "claude-sonnet-4", 100, 10, 1.0),
        rec("2026-11-21T00:00:00Z", Provider::Claude, "claude-sonnet-4", 1000, 100, 2.0),
        rec("2026-11-21T12:00:00Z", Provider::Claude, "claude-sonnet-4", 1000, 100, 0.1),
        rec("2026-11-21T13:00:00Z", Provider::Claude, "claude-opus-4", 10, 1, 0.2),
        rec("2026-11-21T14:00:00Z", Provider::Local, "qwen", 1_000_000, 1_000_000, 0.0),
        rec("2026-11-21T23:59:59Z", Provider::Local, "qwen", 5, 5, 0.0),
        rec("2026-11-22T00:00:00Z", Provider::Claude, "claude-sonnet-4", 1, 1, 4.0),
    ]
}

#[test]
fn summary_groups_by_provider_and_model() {
    let (start, end) = day_window(at("2026-11-21T18:00:00Z"), tz("+00:00"));
    let s = summarize(&records(), Window { start, end });
    assert_eq!((s.total_usd, s.messages, s.claude_messages, s.local_messages), (2.3, 5, 3, 2));
    assert_eq!(s.local_share, 0.4);
    let rows: Vec<_> = s
        .by_model
        .iter()
        .map(|m| {
            (m.provider, m.model.as_str(), m.cost_usd, m.input_tokens, m.output_tokens, m.messages)
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (Provider::Claude, "claude-opus-4", 0.2, 10, 1, 1),
            (Provider::Claude, "claude-sonnet-4", 2.1, 2000, 200, 2),
            (Provider::Local, "qwen", 0.0, 1_000_005, 1_000_005, 2),
        ]
    );
    // the budget really trips on today's records (the original's string bug made it 0)
    assert!(Budget { daily_limit_usd: 2.3 }.state(s.total_usd).exceeded);
    // -05:00: the operator's "today" is 2026-11-21T05:00Z..2026-11-22T05:00Z
    let (start, end) = day_window(at("2026-11-22T03:00:00Z"), tz("-05:00"));
    assert_eq!(summarize(&records(), Window { start, end }).total_usd, 4.3);
    let empty = summarize(&[], Window { start, end });
    assert_eq!((empty.messages, empty.local_share, empty.by_model.len()), (0, 0.0, 0));
    let json = serde_json::to_value(&s).unwrap();
    for k in ["since", "totalUsd", "byModel", "localShare"] {
        assert!(json.get(k).is_some(), "{k}");
    }
    assert_eq!(json["byModel"][0]["costUsd"], 0.2);
}

#[test]
fn history_and_savings() {
    let h = daily_history(&records(), 3, at("2026-11-22T10:00:00Z"), tz("+00:00"));
    let got: Vec<_> = h
        .iter()
        .map(|d| (d.date.to_string(), d.cost_usd, d.claude_messages, d.local_messages))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-11-20".to_owned(), 1.0, 1, 0),
            ("2026-11-21".to_owned(), 2.3, 3, 2),
            ("2026-11-22".to_owned(), 4.0, 1, 0),
        ]
    );
    assert_eq!(daily_history(&[], 0, at("2026-11-22T10:00:00Z"), tz("+00:00")).len(), 1);
    let w = period_window(Period::Daily, at("2026-11-21T10:00:00Z"), tz("+00:00"));
    let saved =
        local_savings_usd(&records(), w, &PriceTable::default(), "claude-sonnet-4-20250514");
    assert_eq!(saved, round_usd(1_000_005.0 * 18.0 / 1e6));
}
