//! Router tests: a decision table over the default rules, priority order, word boundaries,
//! validation, and properties.

use super::*;
use proptest::prelude::*;

fn input(message: &str) -> RouteInput<'_> {
    RouteInput {
        message,
        claude_available: true,
        local_available: true,
        override_active: false,
        pending_confirmation: false,
        budget_exceeded: false,
        estimated_context_tokens: 500,
    }
}

const C: Option<Provider> = Some(Provider::Claude);
const L: Option<Provider> = Some(Provider::Local);

#[test]
fn reason_codes_are_the_serde_tags() {
    let all = [
        RouteReason::NoClaudeKey,
        RouteReason::Override,
        RouteReason::ToolIntent { keyword: "stop".into() },
        RouteReason::ToolPreference { tool: "stop_vm".into() },
        RouteReason::PendingConfirmation,
        RouteReason::BudgetExceeded,
        RouteReason::ContextTooLarge { estimated_tokens: 9, limit_tokens: 1 },
        RouteReason::SmallTalk { pattern: "hi".into() },
        RouteReason::Default,
        RouteReason::LocalUnavailable,
        RouteReason::NoProvider,
        RouteReason::BudgetExceededNoLocal,
    ];
    for r in all {
        assert_eq!(serde_json::to_value(&r).unwrap()["code"], r.code(), "{r:?}");
    }
}

/// (message, expected provider, expected reason code) with default rules and a healthy setup.
const TABLE: &[(&str, Option<Provider>, &str)] = &[
    // small talk → local
    ("hi", L, "smallTalk"),
    ("Hi!", L, "smallTalk"),
    ("hello there", L, "smallTalk"),
    ("hey jarvis", L, "smallTalk"),
    ("thanks", L, "smallTalk"),
    ("Thank you very much.", L, "smallTalk"),
    ("good morning jarvis", L, "smallTalk"),
    ("Good evening, Jarvis", L, "smallTalk"),
    ("how are you", L, "smallTalk"),
    ("How are you today?", L, "smallTalk"),
    ("who are you?", L, "smallTalk"),
    ("what can you do", L, "smallTalk"),
    ("bye", L, "smallTalk"),
    ("ok", L, "smallTalk"),
    ("tell me a joke", L, "smallTalk"),
    ("cheers mate", L, "smallTalk"),
    // default → local
    ("", L, "default"),
    ("   ", L, "default"),
    ("!!!", L, "default"),
    ("what is the capital of France", L, "default"),
    ("explain recursion", L, "default"),
    ("starting over", L, "default"),
    ("I need a stopwatch", L, "default"),
    ("please forget that", L, "default"),
    ("my download finished", L, "default"),
    ("an attempt was made", L, "default"),
    ("the program is done", L, "default"),
    ("I saw a wolf", L, "default"),
    ("she started laughing", L, "default"),
    ("checkers is a fun game", L, "default"),
    ("nodejs or deno?", L, "default"),
    ("café crème", L, "default"),
    ("日本語で話して", L, "default"),
    // tool intent → Claude
    ("restart vm 101", C, "toolIntent"),
    ("restart vm 101!", C, "toolIntent"),
    ("Restart VM-101", C, "toolIntent"),
    ("RESTARTING the container", C, "toolIntent"),
    ("it restarted twice", C, "toolIntent"),
    ("reboot pve", C, "toolIntent"),
    ("please shut down agent1", C, "toolIntent"),
    ("stop ct 300", C, "toolIntent"),
    ("start 101", C, "toolIntent"),
    ("migrate 101 to pve", C, "toolIntent"),
    ("the migration failed", C, "toolIntent"),
    ("status of home", C, "toolIntent"),
    ("check the disks", C, "toolIntent"),
    ("show me the logs", C, "toolIntent"),
    ("list vms", C, "toolIntent"),
    ("how are the nodes doing?", C, "toolIntent"),
    ("is the node up", C, "toolIntent"),
    ("cpu usage on pve", C, "toolIntent"),
    ("memory?", C, "toolIntent"),
    ("what's the temperature", C, "toolIntent"),
    ("any backups last night", C, "toolIntent"),
    ("take a snapshot of 101", C, "toolIntent"),
    ("ssh into home", C, "toolIntent"),
    ("run uptime on agent", C, "toolIntent"),
    ("execute df -h", C, "toolIntent"),
    ("storage full?", C, "toolIntent"),
    ("hi, restart vm 101", C, "toolIntent"),
    ("thanks! now stop 300", C, "toolIntent"),
    ("good morning, cluster status?", C, "toolIntent"),
    ("«reboot» the node, s'il vous plaît", C, "toolIntent"),
    ("wake agent1 (wol)", C, "toolIntent"),
    ("how is proxmox", C, "toolIntent"),
    ("QUORUM lost?", C, "toolIntent"),
    // per-tool preference (no keyword, names the tool)
    ("use execute_ssh please", C, "toolIntent"),
    ("use restart_service", C, "toolIntent"),
];

fn code(reason: &RouteReason) -> String {
    serde_json::to_value(reason).unwrap()["code"].as_str().unwrap().to_owned()
}

#[test]
fn decision_table_with_default_rules() {
    assert!(TABLE.len() >= 60, "{} rows", TABLE.len());
    let rules = RoutingRules::default();
    let mut failures = Vec::new();
    for (message, provider, reason) in TABLE {
        let out = route(&input(message), &rules);
        if out.provider() != *provider || code(out.reason()) != *reason {
            failures.push(format!("{message:?}: got {out:?}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn tool_preference_reason_when_no_keyword_matches() {
    let rules = RoutingRules { tool_keywords: vec!["zzz".into()], ..RoutingRules::default() };
    let out = route(&input("call wake_node"), &rules);
    assert_eq!(out.reason(), &RouteReason::ToolPreference { tool: "wake_node".into() });
    let out = route(&input("execute ssh"), &rules);
    assert_eq!(out.reason(), &RouteReason::ToolPreference { tool: "execute_ssh".into() });
}

#[test]
fn each_rule_beats_the_ones_after_it() {
    let rules = RoutingRules::default();
    let all = RouteInput {
        message: "hi, restart vm 101",
        claude_available: false,
        local_available: true,
        override_active: true,
        pending_confirmation: true,
        budget_exceeded: true,
        estimated_context_tokens: 100_000,
    };
    // 1. no key beats everything
    let out = route(&all, &rules);
    assert_eq!(out.decision().unwrap().reason, RouteReason::NoClaudeKey);
    assert_eq!(out.provider(), L);
    // 2. override beats budget, tool intent, pending, context, small talk
    let i = RouteInput { claude_available: true, ..all };
    assert_eq!(route(&i, &rules).reason(), &RouteReason::Override);
    // 3. budget beats tool intent, pending, context and small talk (a cap that really trips)
    let i = RouteInput { override_active: false, ..i };
    let out = route(&i, &rules);
    assert_eq!((out.provider(), out.reason()), (L, &RouteReason::BudgetExceeded));
    // 4. tool intent beats pending, context, small talk
    let i = RouteInput { budget_exceeded: false, ..i };
    assert_eq!(code(route(&i, &rules).reason()), "toolIntent");
    // 5. pending beats context, small talk
    let i = RouteInput { message: "hi", ..i };
    assert_eq!(route(&i, &rules).reason(), &RouteReason::PendingConfirmation);
    // 6. context beats small talk
    let i = RouteInput { pending_confirmation: false, ..i };
    let out = route(&i, &rules);
    assert_eq!(out.provider(), C);
    assert_eq!(
        out.reason(),
        &RouteReason::ContextTooLarge { estimated_tokens: 100_000, limit_tokens: 3072 }
    );
    // 7. small talk beats default
    let i = RouteInput { estimated_context_tokens: 10, ..i };
    assert_eq!(code(route(&i, &rules).reason()), "smallTalk");
    // 8. default
    let i = RouteInput { message: "why is the sky blue", ..i };
    let out = route(&i, &rules);
    assert_eq!((out.provider(), out.reason()), (L, &RouteReason::Default));
}

#[test]
fn context_limit_is_inclusive() {
    let rules = RoutingRules::default();
    let at = RouteInput { estimated_context_tokens: 3072, ..input("why") };
    assert_eq!(route(&at, &rules).provider(), L);
    let over = RouteInput { estimated_context_tokens: 3073, ..at };
    assert_eq!(route(&over, &rules).provider(), C);
}

#[test]
fn availability() {
    let rules = RoutingRules::default();
    let none = RouteInput { claude_available: false, local_available: false, ..input("hi") };
    assert_eq!(route(&none, &rules), RouteOutcome::NoProvider(RouteReason::NoProvider));
    let none = RouteInput { override_active: true, message: "restart 101", ..none };
    assert_eq!(route(&none, &rules).provider(), None);
    // local down: small talk / default go to Claude
    let down = RouteInput { local_available: false, ..input("hi") };
    let out = route(&down, &rules);
    assert_eq!((out.provider(), out.reason()), (C, &RouteReason::LocalUnavailable));
    let out = route(&RouteInput { message: "why", ..down }, &rules);
    assert_eq!(out.provider(), C);
    // local down + budget exceeded: a hard stop
    let out = route(&RouteInput { budget_exceeded: true, ..down }, &rules);
    assert_eq!(out, RouteOutcome::NoProvider(RouteReason::BudgetExceededNoLocal));
    // local down does not change Claude choices
    let out = route(&RouteInput { message: "stop 101", ..down }, &rules);
    assert_eq!(code(out.reason()), "toolIntent");
}

#[test]
fn word_boundaries_and_prefixes() {
    let m = |rule: &str, msg: &str| Rule::parse(rule).unwrap().matches(&words(msg));
    assert!(!m("get", "forget it"));
    assert!(m("get", "get nodes"));
    assert!(!m("stop", "stopwatch"));
    assert!(!m("node", "nodes"));
    assert!(m("node*", "nodes"));
    assert!(m("restart*", "Restarting"));
    assert!(!m("restart*", "prerestart"));
    assert!(m("status of", "STATUS   of, home"));
    assert!(!m("status of", "status; later of"));
    assert!(m("status of", "status; of"), "punctuation is a separator");
    assert!(m("vm", "VM-101"));
    assert!(m("101", "vm101 101"));
    assert!(!m("101", "vm101"));
    assert!(m("ünïcödé", "ÜNÏCÖDÉ!"));
    assert!(!m("a b c", "a b"));
}

#[test]
fn custom_rules_route() {
    let rules = RoutingRules {
        tool_keywords: vec!["get".into()],
        smalltalk_patterns: vec!["yo".into()],
        ..RoutingRules::default()
    };
    assert_eq!(route(&input("forget it"), &rules).reason(), &RouteReason::Default);
    assert_eq!(code(route(&input("get 101"), &rules).reason()), "toolIntent");
    assert_eq!(code(route(&input("yo!"), &rules).reason()), "smallTalk");
}

#[test]
fn default_rules_are_valid() {
    assert_eq!(RoutingRules::default().validate(), Ok(()));
}

#[test]
fn validation_reports_every_problem() {
    let rules = RoutingRules {
        tool_keywords: vec![
            "stop".into(),
            "STOP ".into(),
            " ".into(),
            "a*b".into(),
            "x*".into(),
            "-*".into(),
            "y".repeat(65),
            "hi".into(),
        ],
        smalltalk_patterns: vec!["hi".into()],
        local_context_limit_tokens: 10,
        prefer_claude_for_tools: vec!["nope_tool".into()],
    };
    let errors = rules.validate().unwrap_err();
    for needle in [
        "toolKeywords: duplicate",
        "toolKeywords: blank",
        "\"a*b\" has no word",
        "\"x*\" prefix is shorter",
        "\"-*\" has no word",
        "longer than 64",
        "\"hi\" is also a tool keyword",
        "localContextLimitTokens: 10",
        "\"nope_tool\" is not a registered tool",
    ] {
        assert!(errors.iter().any(|e| e.contains(needle)), "{needle}: {errors:#?}");
    }
    let empty = RoutingRules { tool_keywords: vec![], ..RoutingRules::default() };
    assert_eq!(empty.validate().unwrap_err(), vec!["toolKeywords: must not be empty"]);
    let big = RoutingRules { local_context_limit_tokens: 2_000_000, ..RoutingRules::default() };
    assert!(big.validate().is_err());
}

#[test]
fn rules_serde_camel_case_with_defaults() {
    let json = serde_json::to_value(RoutingRules::default()).unwrap();
    for key in
        ["toolKeywords", "smalltalkPatterns", "localContextLimitTokens", "preferClaudeForTools"]
    {
        assert!(json.get(key).is_some(), "{key}");
    }
    let partial: RoutingRules =
        serde_json::from_str(r#"{"localContextLimitTokens": 8000}"#).unwrap();
    assert_eq!(partial.local_context_limit_tokens, 8000);
    assert_eq!(partial.tool_keywords, RoutingRules::default().tool_keywords);
}

#[test]
fn decision_serde_and_text() {
    let d = RouteDecision {
        provider: Provider::Claude,
        reason: RouteReason::ContextTooLarge { estimated_tokens: 5000, limit_tokens: 3072 },
    };
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"provider": "claude", "reason":
            {"code": "contextTooLarge", "estimatedTokens": 5000, "limitTokens": 3072}})
    );
    assert!(d.reason.text().contains("5000 > 3072"));
    assert_eq!(Provider::Local.as_str(), "local");
    for r in [RouteReason::NoClaudeKey, RouteReason::Override, RouteReason::NoProvider] {
        assert!(!r.text().is_empty());
    }
}

fn any_input() -> impl Strategy<Value = (String, bool, bool, bool, bool, bool, u32)> {
    (
        prop_oneof![
            "\\PC{0,40}",
            prop::sample::select(vec!["hi", "restart vm 101", "why", "thanks", "list nodes"])
                .prop_map(str::to_owned),
        ],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u32..10_000,
    )
}

proptest! {
    #[test]
    fn deterministic_and_override_wins((msg, claude, local, ovr, pending, budget, ctx) in any_input()) {
        let rules = RoutingRules::default();
        let i = RouteInput {
            message: &msg,
            claude_available: claude,
            local_available: local,
            override_active: ovr,
            pending_confirmation: pending,
            budget_exceeded: budget,
            estimated_context_tokens: ctx,
        };
        let first = route(&i, &rules);
        prop_assert_eq!(&first, &route(&i, &rules));
        if ovr && claude {
            prop_assert_eq!(first.provider(), C);
            prop_assert_eq!(first.reason(), &RouteReason::Override);
        }
        if !claude {
            prop_assert_ne!(first.provider(), C);
        }
        if !local {
            prop_assert_ne!(first.provider(), L);
        }
        if claude || local {
            // a provider always answers unless the cap is spent with local down
            prop_assert!(first.provider().is_some() || (budget && !local));
        }
        if budget && !(ovr && claude) {
            // the cap really trips: nothing but the override spends on Claude past it
            prop_assert_ne!(first.provider(), C);
        }
    }
}
