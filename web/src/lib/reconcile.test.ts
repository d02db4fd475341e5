import { describe, expect, it } from "vitest";
import { node } from "../test/fixtures";
import { jsonEqual, reconcileList, reconcileValue } from "./reconcile";

describe("reconcileList", () => {
  it("keeps the previous object for unchanged items and takes the new one for changed items", () => {
    const prev = [node("a"), node("b")];
    const next = [node("a"), node("b", { cpu: 0.9 })];
    const out = reconcileList(prev, next, (n) => n.name);
    expect(out[0]).toBe(prev[0]);
    expect(out[1]).toBe(next[1]);
    expect(out).not.toBe(prev);
  });

  it("returns the previous array itself when nothing changed", () => {
    const prev = [node("a"), node("b")];
    expect(reconcileList(prev, [node("a"), node("b")], (n) => n.name)).toBe(prev);
  });

  it("notices reordering, removal and additions", () => {
    const prev = [node("a"), node("b")];
    const reordered = reconcileList(prev, [node("b"), node("a")], (n) => n.name);
    expect(reordered).not.toBe(prev);
    expect(reordered[0]).toBe(prev[1]);
    expect(reconcileList(prev, [node("a")], (n) => n.name)).toEqual([node("a")]);
    expect(reconcileList(prev, [...prev, node("c")], (n) => n.name)).toHaveLength(3);
  });
});

describe("jsonEqual / reconcileValue", () => {
  it("compares nested JSON values", () => {
    expect(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] })).toBe(true);
    expect(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 3 }] })).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: undefined })).toBe(false);
    expect(jsonEqual([1], { 0: 1 })).toBe(false);
  });
  it("reconcileValue keeps the old reference when equal", () => {
    const prev = { quorate: true, nodes: 3, expected: 3 };
    expect(reconcileValue(prev, { quorate: true, nodes: 3, expected: 3 })).toBe(prev);
    const next = { quorate: false, nodes: 1, expected: 3 };
    expect(reconcileValue(prev, next)).toBe(next);
  });
});
