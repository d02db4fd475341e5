/**
 * One import point for the wire types. They are generated from the Rust domain crate by ts-rs
 * (`cargo test -p jarvis-domain` writes ./generated); this file only re-exports them so the UI
 * never carries a hand-written copy that can drift (the original's NodeData/QuorumData bugs).
 */
export type { ClusterSnapshot } from "./generated/ClusterSnapshot";
export type { Freshness } from "./generated/Freshness";
export type { GuestStatus } from "./generated/GuestStatus";
export type { GuestType } from "./generated/GuestType";
export type { Node } from "./generated/Node";
export type { NodeStatus } from "./generated/NodeStatus";
export type { Quorum } from "./generated/Quorum";
export type { Storage } from "./generated/Storage";
export type { TemperatureReading } from "./generated/TemperatureReading";
export type { Vm } from "./generated/Vm";
