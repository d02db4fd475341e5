//! The pure half of the tamper-evident audit log (SAFE-08): the entry shape, its vocabulary
//! ([`Decision`], [`Outcome`]), its hash, and chain verification. Storage lives in the server;
//! this module only says what a valid chain is and which words its writers use.
//!
//! Each entry's `hash` is SHA-256 over an unambiguous encoding of the previous entry's hash and
//! every field of the entry, so editing, deleting, inserting or reordering any row breaks the
//! chain at that row. (Removing rows from the *end* is not detectable from the rows alone; the
//! server should publish or store the latest hash elsewhere if that matters.)

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::tools::{Tier, canonical_json};

/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The values `source` takes.
pub const AUDIT_SOURCES: &[&str] = &["chat", "api", "mcp", "monitor", "terminal", "ui"];

/// What was decided about a request: the `decision` column. Writers use these; rows keep the
/// word as text ([`Decision::as_str`]), so the stored rows and their hashes do not depend on
/// this enum, and a word from another version still displays ([`AuditEntry::decision_kind`]
/// is `None` for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The safety decision let a tool run (its outcome says how it went).
    Executed,
    /// The safety decision (or an unknown tool, or a broken digest) refused it.
    Blocked,
    /// A confirmation record was created; nothing ran yet.
    ConfirmationRequested,
    /// An operator approved a confirmation.
    Approved,
    /// An operator denied a confirmation.
    Denied,
    /// A session asked for elevation with the override passkey.
    Elevate,
    /// The kill switch was thrown.
    KillSwitchOn,
    /// The kill switch was released.
    KillSwitchOff,
    /// The LLM routing settings were changed.
    RoutingUpdated,
    /// A terminal session to a node started.
    TerminalStart,
    /// A terminal session to a node ended.
    TerminalEnd,
    /// The monitor's autonomy level was changed.
    AutonomyLevelSet,
    /// Monitor settings (thresholds, runbooks switched on or off) were changed.
    MonitorSettingsUpdated,
    /// A silence (maintenance window) was created.
    SilenceCreated,
    /// A silence was removed.
    SilenceRemoved,
    /// An operator acknowledged an incident.
    IncidentAcknowledged,
    /// An operator resolved an incident by hand.
    IncidentResolved,
}

impl Decision {
    /// Every decision, for tests and documentation.
    pub const ALL: &'static [Decision] = &[
        Decision::Executed,
        Decision::Blocked,
        Decision::ConfirmationRequested,
        Decision::Approved,
        Decision::Denied,
        Decision::Elevate,
        Decision::KillSwitchOn,
        Decision::KillSwitchOff,
        Decision::RoutingUpdated,
        Decision::TerminalStart,
        Decision::TerminalEnd,
        Decision::AutonomyLevelSet,
        Decision::MonitorSettingsUpdated,
        Decision::SilenceCreated,
        Decision::SilenceRemoved,
        Decision::IncidentAcknowledged,
        Decision::IncidentResolved,
    ];

    /// The stored word (`executed`, `kill_switch_on`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Executed => "executed",
            Decision::Blocked => "blocked",
            Decision::ConfirmationRequested => "confirmation_requested",
            Decision::Approved => "approved",
            Decision::Denied => "denied",
            Decision::Elevate => "elevate",
            Decision::KillSwitchOn => "kill_switch_on",
            Decision::KillSwitchOff => "kill_switch_off",
            Decision::RoutingUpdated => "routing_updated",
            Decision::TerminalStart => "terminal_start",
            Decision::TerminalEnd => "terminal_end",
            Decision::AutonomyLevelSet => "autonomy_level_set",
            Decision::MonitorSettingsUpdated => "monitor_settings_updated",
            Decision::SilenceCreated => "silence_created",
            Decision::SilenceRemoved => "silence_removed",
            Decision::IncidentAcknowledged => "incident_acknowledged",
            Decision::IncidentResolved => "incident_resolved",
        }
    }

    /// The decision a stored word names; `None` for a word this version does not know.
    pub fn parse(word: &str) -> Option<Decision> {
        Decision::ALL.iter().copied().find(|d| d.as_str() == word)
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened: the `outcome` column, stored as text like [`Decision`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It ran (or the change was applied) and succeeded.
    Success,
    /// It ran and failed.
    Failure,
    /// It was refused.
    Blocked,
    /// It waits for an operator.
    Pending,
    /// The confirmation was approved (its execution is the next row).
    Approved,
    /// The confirmation (or an elevation) was denied.
    Denied,
}

impl Outcome {
    /// Every outcome, for tests and documentation.
    pub const ALL: &'static [Outcome] = &[
        Outcome::Success,
        Outcome::Failure,
        Outcome::Blocked,
        Outcome::Pending,
        Outcome::Approved,
        Outcome::Denied,
    ];

    /// The stored word (`success`, `pending`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Blocked => "blocked",
            Outcome::Pending => "pending",
            Outcome::Approved => "approved",
            Outcome::Denied => "denied",
        }
    }

    /// The outcome a stored word names; `None` for a word this version does not know.
    pub fn parse(word: &str) -> Option<Outcome> {
        Outcome::ALL.iter().copied().find(|o| o.as_str() == word)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One audit record (`GET /api/audit` entry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Row id, strictly increasing along the chain.
    pub id: i64,
    /// When, as RFC 3339 UTC with `Z`.
    pub at: String,
    /// Who: the authenticated user, `jarvis` for the LLM, `monitor` for runbooks.
    pub actor: String,
    /// Where the request came from: one of [`AUDIT_SOURCES`].
    pub source: String,
    /// The tool, for tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The canonical arguments, for tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<serde_json::Value>,
    /// The tool's tier, for tool calls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// What was decided: a [`Decision`] word (`executed`, `blocked`, `approved`, …). Text, so
    /// rows from any version display as stored.
    pub decision: String,
    /// What happened: an [`Outcome`] word (`success`, `failure`, `pending`, …), text likewise.
    pub outcome: String,
    /// Extra detail: the block reason, an error message, a terminal session id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The previous entry's `hash` ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// [`entry_hash`] of this entry over `prev_hash`.
    pub hash: String,
}

impl AuditEntry {
    /// The decision, when this version knows its word.
    pub fn decision_kind(&self) -> Option<Decision> {
        Decision::parse(&self.decision)
    }

    /// The outcome, when this version knows its word.
    pub fn outcome_kind(&self) -> Option<Outcome> {
        Outcome::parse(&self.outcome)
    }

    /// Links this entry after `prev_hash` and computes its hash (what the writer does just
    /// before inserting the row).
    pub fn chain_to(&mut self, prev_hash: &str) {
        prev_hash.clone_into(&mut self.prev_hash);
        self.hash = entry_hash(prev_hash, self);
    }
}

/// Appends one length-prefixed field, so `("ab", "c")` and `("a", "bc")` encode differently.
fn field(h: &mut Sha256, bytes: &[u8]) {
    h.update((bytes.len() as u64).to_be_bytes());
    h.update(bytes);
}

/// Appends an optional field with a presence marker, so `None` and `Some("")` differ.
fn optional(h: &mut Sha256, bytes: Option<&[u8]>) {
    match bytes {
        None => h.update([0u8]),
        Some(b) => {
            h.update([1u8]);
            field(h, b);
        }
    }
}

/// Hex SHA-256 of `prev_hash` and every field of `e` except `e.prev_hash` and `e.hash`
/// (`prev_hash` is passed explicitly so the writer can hash before filling the row). Arguments
/// are hashed in canonical JSON form, so re-serialising them with a different key order does
/// not change the hash.
pub fn entry_hash(prev_hash: &str, e: &AuditEntry) -> String {
    let mut h = Sha256::new();
    // A version tag, so a future change of encoding can never verify an old chain by accident.
    field(&mut h, b"jarvis-audit-v1");
    field(&mut h, prev_hash.as_bytes());
    field(&mut h, &e.id.to_be_bytes());
    field(&mut h, e.at.as_bytes());
    field(&mut h, e.actor.as_bytes());
    field(&mut h, e.source.as_bytes());
    optional(&mut h, e.tool.as_deref().map(str::as_bytes));
    let args = e.args.as_ref().map(canonical_json);
    optional(&mut h, args.as_deref().map(str::as_bytes));
    optional(&mut h, e.tier.map(|t| t.as_str().as_bytes()));
    field(&mut h, e.decision.as_bytes());
    field(&mut h, e.outcome.as_bytes());
    optional(&mut h, e.detail.as_deref().map(str::as_bytes));
    hex::encode(h.finalize())
}

/// Verifies a chain that starts at the genesis. `entries` must be the whole log ordered by id.
/// Returns the id of the first entry that is out of order, not linked to its predecessor, or
/// whose hash does not match its content.
pub fn verify_chain(entries: &[AuditEntry]) -> Result<(), i64> {
    verify_chain_from(GENESIS_HASH, entries)
}

/// Like [`verify_chain`], for a log whose older rows were archived: `anchor` is the hash of the
/// last archived entry.
pub fn verify_chain_from(anchor: &str, entries: &[AuditEntry]) -> Result<(), i64> {
    let mut prev = anchor;
    let mut last_id: Option<i64> = None;
    for e in entries {
        let ordered = last_id.is_none_or(|last| e.id > last);
        if !ordered || e.prev_hash != prev || entry_hash(&e.prev_hash, e) != e.hash {
            return Err(e.id);
        }
        prev = &e.hash;
        last_id = Some(e.id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn entry(id: i64) -> AuditEntry {
        AuditEntry {
            id,
            at: format!("2026-01-31T08:00:{id:02}Z"),
            actor: "admin".into(),
            source: AUDIT_SOURCES[id as usize % AUDIT_SOURCES.len()].into(),
            tool: (id % 2 == 0).then(|| "stop_vm".into()),
            args: (id % 2 == 0).then(|| json!({"node": "pve1", "vmid": 100 + id})),
            tier: (id % 2 == 0).then_some(Tier::Red),
            decision: "confirm".into(),
            outcome: "ok".into(),
            detail: (id % 3 == 0).then(|| format!("detail {id}")),
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    fn chain(n: i64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for id in 1..=n {
            let mut e = entry(id);
            let prev = out.last().map_or(GENESIS_HASH, |p| p.hash.as_str()).to_owned();
            e.chain_to(&prev);
            out.push(e);
        }
        out
    }

    #[test]
    fn a_valid_chain_verifies() {
        let c = chain(6);
        assert_eq!(verify_chain(&c), Ok(()));
        assert_eq!(verify_chain(&[]), Ok(()));
        assert_eq!(c[0].prev_hash, GENESIS_HASH);
        assert_eq!(c[0].hash.len(), 64);
        assert_eq!(verify_chain_from(&c[2].hash, &c[3..]), Ok(()));
        assert_eq!(verify_chain(&c[3..]), Err(4), "an archived prefix needs its anchor");
    }

    #[test]
    fn editing_any_field_of_any_row_breaks_exactly_there() {
        type Edit = fn(&mut AuditEntry);
        let edits: &[(&str, Edit)] = &[
            ("id", |e| e.id += 1000),
            ("at", |e| e.at.push('x')),
            ("actor", |e| e.actor = "mallory".into()),
            ("source", |e| e.source = "ui2".into()),
            ("tool", |e| e.tool = if e.tool.is_some() { None } else { Some(String::new()) }),
            ("tool value", |e| e.tool = Some("start_vm".into())),
            ("args", |e| e.args = if e.args.is_some() { None } else { Some(json!({})) }),
            ("args value", |e| e.args = Some(json!({"node": "pve1", "vmid": 999}))),
            ("tier", |e| e.tier = if e.tier.is_some() { None } else { Some(Tier::Green) }),
            ("tier value", |e| e.tier = Some(Tier::Black)),
            ("decision", |e| e.decision = "execute".into()),
            ("outcome", |e| e.outcome = "error".into()),
            ("detail", |e| e.detail = if e.detail.is_some() { None } else { Some(String::new()) }),
            ("prev_hash", |e| e.prev_hash = "f".repeat(64)),
            ("hash", |e| e.hash = "0".repeat(64)),
        ];
        let original = chain(5);
        for (name, edit) in edits {
            for row in 0..original.len() {
                let mut c = original.clone();
                edit(&mut c[row]);
                if c[row] == original[row] {
                    continue; // The edit did not apply to this row's shape.
                }
                assert_eq!(verify_chain(&c), Err(c[row].id), "{name} on row {row}");
            }
        }
    }

    #[test]
    fn deleting_or_reordering_rows_breaks_the_chain() {
        let c = chain(5);
        let mut deleted = c.clone();
        deleted.remove(2);
        assert_eq!(verify_chain(&deleted), Err(4), "deleting a middle row breaks the next");
        assert_eq!(verify_chain(&c[1..]), Err(2), "deleting the first row breaks the new first");
        let mut swapped = c.clone();
        swapped.swap(1, 2);
        assert_eq!(verify_chain(&swapped), Err(3));
        // Re-hashing a forged row does not help: its successor still points at the original.
        let mut forged = c.clone();
        forged[2].outcome = "error".into();
        let prev = forged[1].hash.clone();
        forged[2].chain_to(&prev);
        assert_eq!(verify_chain(&forged), Err(4));
    }

    #[test]
    fn encoding_is_unambiguous_and_key_order_free() {
        let mut a = entry(2);
        let mut b = entry(2);
        a.actor = "ab".into();
        a.source = "c".into();
        b.actor = "a".into();
        b.source = "bc".into();
        assert_ne!(entry_hash(GENESIS_HASH, &a), entry_hash(GENESIS_HASH, &b));
        let mut c = entry(2);
        c.args = Some(serde_json::from_str(r#"{"vmid":102,"node":"pve1"}"#).unwrap());
        assert_eq!(entry_hash(GENESIS_HASH, &c), entry_hash(GENESIS_HASH, &entry(2)));
        let mut none = entry(1);
        none.detail = None;
        let mut empty = entry(1);
        empty.detail = Some(String::new());
        assert_ne!(entry_hash(GENESIS_HASH, &none), entry_hash(GENESIS_HASH, &empty));
    }

    #[test]
    fn wire_shape_is_camel_case() {
        let e = &chain(2)[1];
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(v["prevHash"], json!(e.prev_hash));
        assert_eq!(v["tier"], "red");
        assert!(v.get("detail").is_none());
        let back: AuditEntry = serde_json::from_value(v).unwrap();
        assert_eq!(&back, e);
    }

    #[test]
    fn vocabulary_words_are_the_stored_ones_and_parse_back() {
        let decisions: Vec<&str> = Decision::ALL.iter().map(|d| d.as_str()).collect();
        assert_eq!(
            decisions,
            [
                "executed",
                "blocked",
                "confirmation_requested",
                "approved",
                "denied",
                "elevate",
                "kill_switch_on",
                "kill_switch_off",
                "routing_updated",
                "terminal_start",
                "terminal_end",
                "autonomy_level_set",
                "monitor_settings_updated",
                "silence_created",
                "silence_removed",
                "incident_acknowledged",
                "incident_resolved",
            ]
        );
        let outcomes: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(outcomes, ["success", "failure", "blocked", "pending", "approved", "denied"]);
        for d in Decision::ALL {
            assert_eq!(Decision::parse(d.as_str()), Some(*d));
            assert_eq!(d.to_string(), d.as_str());
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(*o));
            assert_eq!(o.to_string(), o.as_str());
        }
        assert_eq!(Decision::parse("Executed"), None, "words are exact");
        assert_eq!(Outcome::parse(""), None);
    }

    #[test]
    fn unknown_stored_words_still_display_and_verify() {
        // `entry()` writes words no writer uses today, like a row from another version.
        let c = chain(3);
        assert_eq!(verify_chain(&c), Ok(()));
        assert_eq!((c[0].decision.as_str(), c[0].decision_kind()), ("confirm", None));
        assert_eq!((c[0].outcome.as_str(), c[0].outcome_kind()), ("ok", None));
        let mut known = entry(1);
        known.decision = Decision::KillSwitchOn.as_str().into();
        known.outcome = Outcome::Success.as_str().into();
        assert_eq!(known.decision_kind(), Some(Decision::KillSwitchOn));
        assert_eq!(known.outcome_kind(), Some(Outcome::Success));
    }
}
