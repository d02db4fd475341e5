import { describe, expect, it } from "vitest";
import type { ChatMessage, ChatServerEvent, ToolResultStatus } from "../features/chat/types";
import { addLocalUserMessage, applyJoin, initialCore, reduceChat, setDecision, type ChatCore } from "./chatReducer";

const S = "sess-1";
const started: ChatCore = { ...initialCore, sessionId: S };

function run(core: ChatCore, ...events: ChatServerEvent[]): ChatCore {
  return events.reduce(reduceChat, core);
}

const route = (over: Partial<{ provider: "claude" | "local" | "slash"; fallback: boolean; reason: string }> = {}): ChatServerEvent => ({
  type: "chat:route",
  payload: { sessionId: S, provider: "claude", model: "claude-sonnet", reason: "cluster action or query", reasonCode: "toolIntent", fallback: false, ...over },
});
const token = (text: string, sessionId = S): ChatServerEvent => ({ type: "chat:token", payload: { sessionId, text } });
const toolUse = (id = "tu1", name = "stop_vm"): ChatServerEvent => ({
  type: "chat:tool_use",
  payload: { sessionId: S, toolUseId: id, toolName: name, toolInput: { node: "pve1", vmid: 101 }, tier: "red" },
});
const confirmNeeded = (id = "tu1"): ChatServerEvent => ({
  type: "chat:confirm_needed",
  payload: { sessionId: S, confirmationId: "c-1", toolUseId: id, toolName: "stop_vm", toolInput: { node: "pve1", vmid: 101 }, tier: "red", summary: "Stop VM 101 on pve1", expiresAt: "2099-01-01T00:00:00Z" },
});
const toolResult = (id: string, result: string, status: ToolResultStatus = "ok"): ChatServerEvent => ({
  type: "chat:tool_result",
  payload: { sessionId: S, toolUseId: id, result, isError: status !== "ok", status },
});
const done = (stopReason: "end_turn" | "aborted" = "end_turn"): ChatServerEvent => ({
  type: "chat:done",
  payload: { sessionId: S, provider: "claude", model: "claude-sonnet", usage: { inputTokens: 120, outputTokens: 40 }, costUsd: 0.0012, stopReason },
});

function wireMessage(over: Partial<ChatMessage>): ChatMessage {
  return {
    id: "m1",
    sessionId: S,
    role: "user",
    content: "hello",
    provider: null,
    model: null,
    toolCalls: [],
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    createdAt: "2026-01-01T00:00:00Z",
    ...over,
  };
}

describe("reduceChat", () => {
  it("route opens a streaming assistant message; tokens append to it", () => {
    const c = run(started, route(), token("The cluster "), token("is **healthy**."));
    expect(c.running).toBe(true);
    expect(c.messages).toHaveLength(1);
    const m = c.messages[0];
    expect(m).toMatchObject({ role: "assistant", streaming: true, provider: "claude", model: "claude-sonnet", content: "The cluster is **healthy**." });
    expect(m?.routes).toEqual([{ provider: "claude", model: "claude-sonnet", reason: "cluster action or query", reasonCode: "toolIntent", fallback: false }]);
  });

  it("a fallback route is added to the same (still empty) reply", () => {
    const c = run(started, route(), route({ provider: "local", fallback: true, reason: "Claude overloaded (529)" }), token("hi"));
    expect(c.messages).toHaveLength(1);
    expect(c.messages[0]?.provider).toBe("local");
    expect(c.messages[0]?.routes.map((r) => r.fallback)).toEqual([false, true]);
  });

  it("tool_use adds a running card; tool_result resolves it; later text starts a new message", () => {
    let c = run(started, route(), token("Checking."), toolUse("tu1", "get_cluster_status"));
    expect(c.messages[0]?.tools).toEqual([expect.objectContaining({ id: "tu1", name: "get_cluster_status", status: "running", tier: "red" })]);
    c = run(c, toolResult("tu1", '{"nodes":4}'));
    expect(c.messages[0]?.tools[0]).toMatchObject({ status: "ok", result: '{"nodes":4}' });
    c = run(c, token("All 4 nodes online."));
    expect(c.messages).toHaveLength(2);
    expect(c.messages[1]).toMatchObject({ role: "assistant", content: "All 4 nodes online.", provider: "claude", streaming: true });
  });

  it("confirm_needed marks the call pending with the confirmation; the denied result resolves it", () => {
    let c = run(started, route(), toolUse(), confirmNeeded());
    expect(c.messages[0]?.tools[0]).toMatchObject({ status: "pending", confirmationId: "c-1", summary: "Stop VM 101 on pve1", expiresAt: "2099-01-01T00:00:00Z" });
    c = setDecision(c, "tu1", "deny");
    expect(c.messages[0]?.tools[0]?.decision).toBe("deny");
    c = run(c, toolResult("tu1", "Denied: the operator denied this action.", "denied"));
    expect(c.messages[0]?.tools[0]).toMatchObject({ status: "denied", result: "Denied: the operator denied this action." });
  });

  it("a result takes the status the server sent, whatever its text says", () => {
    const ok = run(started, route(), toolUse(), confirmNeeded(), toolResult("tu1", '{"status":"OK"}'));
    expect(ok.messages[0]?.tools[0]?.status).toBe("ok");
    const statuses: ToolResultStatus[] = ["error", "blocked", "denied", "expired", "aborted", "not_executed"];
    for (const status of statuses) {
      // The same wording each time: only the status decides.
      const c = run(started, route(), toolUse(), confirmNeeded(), toolResult("tu1", "Denied: no", status));
      expect(c.messages[0]?.tools[0]?.status).toBe(status);
    }
  });

  it("confirm_needed without a preceding tool_use still shows a card", () => {
    const c = run(started, confirmNeeded("tu9"));
    expect(c.messages).toHaveLength(1);
    expect(c.messages[0]?.tools[0]).toMatchObject({ id: "tu9", status: "pending", name: "stop_vm" });
  });

  it("blocked marks the call with the reason and keeps 'blocked' when the error result follows", () => {
    const c = run(
      started,
      route(),
      { type: "chat:tool_use", payload: { sessionId: S, toolUseId: "b1", toolName: "reboot_node", toolInput: { node: "pve1" }, tier: "black" } },
      { type: "chat:blocked", payload: { sessionId: S, toolUseId: "b1", toolName: "reboot_node", reason: "BLACK tier", tier: "black" } },
      toolResult("b1", "Blocked: BLACK tier. Do not retry this action in another form.", "blocked"),
    );
    expect(c.messages[0]?.tools[0]).toMatchObject({ status: "blocked", reason: "BLACK tier", tier: "black" });
  });

  it("done finalises the turn: usage and cost on the last reply, running off, doneSeq bumped", () => {
    const c = run(started, route(), token("a"), toolUse(), toolResult("tu1", "ok"), token("b"), done());
    expect(c.running).toBe(false);
    expect(c.doneSeq).toBe(1);
    expect(c.messages.every((m) => !m.streaming)).toBe(true);
    expect(c.messages[0]?.usage).toBeNull();
    expect(c.messages[1]).toMatchObject({ usage: { inputTokens: 120, outputTokens: 40 }, costUsd: 0.0012, stopReason: "end_turn" });
  });

  it("an aborted turn marks unfinished calls aborted", () => {
    const c = run(started, route(), toolUse(), confirmNeeded(), done("aborted"));
    expect(c.messages[0]?.tools[0]?.status).toBe("aborted");
    expect(c.messages[0]?.stopReason).toBe("aborted");
  });

  it("error adds an error line and stops the turn", () => {
    const c = run(started, route(), token("par"), { type: "chat:error", payload: { sessionId: S, code: "llm_error", message: "Claude failed" } });
    expect(c.running).toBe(false);
    expect(c.messages.at(-1)).toMatchObject({ role: "error", code: "llm_error", content: "Claude failed" });
    expect(c.messages[0]?.streaming).toBe(false);
  });

  it("ignores events for another session (and out-of-order ones for unknown calls do no harm)", () => {
    const c = run(started, route(), token("mine"));
    expect(reduceChat(c, token("theirs", "other"))).toBe(c);
    expect(reduceChat(initialCore, token("no session yet"))).toBe(initialCore);
    const orphan = run(c, toolResult("never-announced", "x"));
    expect(orphan.messages[0]?.tools[0]).toMatchObject({ id: "never-announced", status: "ok" });
  });

  it("adopts the session of the first event after sending without one", () => {
    const sent = addLocalUserMessage(initialCore, "hello");
    expect(sent).toMatchObject({ awaitingSession: true, running: true });
    const c = reduceChat(sent, { type: "chat:message", payload: { sessionId: "new-s", message: wireMessage({ id: "u1", sessionId: "new-s" }) } });
    expect(c.sessionId).toBe("new-s");
    expect(c.awaitingSession).toBe(false);
    // The stored message replaced the optimistic one.
    expect(c.messages).toEqual([expect.objectContaining({ id: "u1", content: "hello", role: "user" })]);
    expect(c.messages[0]?.local).toBeUndefined();
    expect(reduceChat(c, token("x", "another")).messages).toHaveLength(1);
  });

  it("chat:message from another tab appends the user message once", () => {
    const ev: ChatServerEvent = { type: "chat:message", payload: { sessionId: S, message: wireMessage({ id: "u7", content: "from tab 2" }) } };
    const c = run(started, ev, ev);
    expect(c.messages.map((m) => m.id)).toEqual(["u7"]);
  });
});

describe("applyJoin", () => {
  it("replaces the transcript with the replayed history, pending card and running state", () => {
    const stale = run(started, route(), token("half a stream"));
    const c = applyJoin(stale, {
      sessionId: S,
      title: "Stop the VM",
      running: true,
      messages: [
        wireMessage({ id: "u1", content: "stop vm 101" }),
        wireMessage({
          id: "a1",
          role: "assistant",
          content: "Stopping.",
          provider: "claude",
          model: "claude-sonnet",
          toolCalls: [{ id: "tu1", name: "stop_vm", input: { node: "pve1", vmid: 101 }, tier: "red", status: "pending", result: null, confirmationId: "c-1" }],
          inputTokens: 10,
          outputTokens: 5,
          costUsd: 0.001,
        }),
      ],
      pending: { sessionId: S, confirmationId: "c-1", toolUseId: "tu1", toolName: "stop_vm", toolInput: {}, tier: "red", summary: "Stop VM 101", expiresAt: "2099-01-01T00:00:00Z" },
    });
    expect(c.title).toBe("Stop the VM");
    expect(c.running).toBe(true);
    expect(c.messages.map((m) => m.id)).toEqual(["u1", "a1"]);
    expect(c.messages[1]).toMatchObject({ provider: "claude", streaming: false, usage: { inputTokens: 10, outputTokens: 5 }, costUsd: 0.001 });
    expect(c.messages[1]?.tools[0]).toMatchObject({ status: "pending", confirmationId: "c-1", summary: "Stop VM 101", expiresAt: "2099-01-01T00:00:00Z" });
    // The next tokens (after the decision) start a new reply.
    const after = run(c, toolResult("tu1", '{"status":"OK"}'), token("Done."));
    expect(after.messages).toHaveLength(3);
    expect(after.messages[1]?.tools[0]?.status).toBe("ok");
  });
});
