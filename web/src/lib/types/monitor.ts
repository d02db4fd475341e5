/**
 * Wire types of the autonomous monitor (docs/protocol.md "Events, monitor, autonomy"):
 * incidents and their timelines, silences, runbooks and their attempts, threshold rules and the
 * autonomy level. All are generated from Rust by ts-rs (src/types/generated), so a change on the
 * server breaks the build here instead of drifting. Import them from this file.
 */
export type { ActionResult } from "../../types/generated/ActionResult";
export type { AutonomyLevel } from "../../types/generated/AutonomyLevel";
export type { AutonomyLevelResponse } from "../../types/generated/AutonomyLevelResponse";
export type { Incident } from "../../types/generated/Incident";
export type { IncidentKind } from "../../types/generated/IncidentKind";
export type { IncidentState } from "../../types/generated/IncidentState";
export type { LastRuns } from "../../types/generated/LastRuns";
export type { Matcher } from "../../types/generated/Matcher";
export type { Metric } from "../../types/generated/Metric";
export type { MonitorAction } from "../../types/generated/MonitorAction";
export type { MonitorTier } from "../../types/generated/MonitorTier";
export type { NewSilence } from "../../types/generated/NewSilence";
export type { Rule } from "../../types/generated/Rule";
export type { RulePatch } from "../../types/generated/RulePatch";
export type { RunbookView } from "../../types/generated/RunbookView";
export type { Silence } from "../../types/generated/Silence";
export type { ThresholdSettings } from "../../types/generated/ThresholdSettings";
export type { TierIntervals } from "../../types/generated/TierIntervals";
export type { TimelineEntry } from "../../types/generated/TimelineEntry";
export type { TimelineKind } from "../../types/generated/TimelineKind";
