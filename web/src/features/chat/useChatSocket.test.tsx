import { renderHook } from "@testing-library/react";
import { act } from "react";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { CHAT_SESSION_KEY, useChatStore } from "../../stores/chat";
import { newFakeSocket, type FakeSocket } from "../../test/fakeSocket";

const sockets: FakeSocket[] = [];
vi.mock("socket.io-client", () => ({
  io: (ns: string, opts: Record<string, unknown>) => newFakeSocket(sockets, ns, opts),
}));

const { useChatSocket } = await import("./useChatSocket");

const socket = () => {
  const s = sockets.at(-1);
  if (!s) throw new Error("no socket");
  return s;
};

/** Answers the client's last `event` with `response` (its ack callback). */
function ack(s: FakeSocket, event: string, response: unknown) {
  const sent = s.emitted.filter((e) => e.event === event).at(-1);
  if (!sent) throw new Error(`${event} was not sent`);
  const cb = sent.args[1] as (r: unknown) => void;
  act(() => cb(response));
}

const joinAck = (sessionId: string, content: string, running = false) => ({
  sessionId,
  title: "A chat",
  running,
  pending: null,
  messages: [
    { id: "u1", sessionId, role: "user", content, provider: null, model: null, toolCalls: [], inputTokens: 0, outputTokens: 0, costUsd: 0, createdAt: "t" },
  ],
});

beforeEach(() => {
  sockets.length = 0;
  sessionStorage.clear();
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useChatStore.getState().reset();
});

describe("useChatSocket + chat store", () => {
  it("connects to /chat on its own connection with the token", () => {
    renderHook(() => useChatSocket("tok"));
    expect(socket().namespace).toBe("/chat");
    expect(socket().opts).toMatchObject({ path: "/socket.io", auth: { token: "tok" }, forceNew: true });
    expect(socket().connectCalls).toBe(1);
  });

  it("sends without a session, adopts the acked one and persists it", () => {
    renderHook(() => useChatSocket("tok"));
    const s = socket();
    s.fire("connect");
    expect(s.sent("chat:join")).toEqual([]); // nothing to rejoin
    act(() => void useChatStore.getState().send("  what is the cluster status  "));
    expect(s.sent("chat:send")).toEqual([{ message: "what is the cluster status" }]);
    expect(useChatStore.getState().running).toBe(true);
    ack(s, "chat:send", { sessionId: "s-42" });
    expect(useChatStore.getState().sessionId).toBe("s-42");
    expect(sessionStorage.getItem(CHAT_SESSION_KEY)).toBe("s-42");
    // A running turn refuses a second message.
    expect(useChatStore.getState().send("again")).toBe(false);
    s.fire("chat:done", { sessionId: "s-42", provider: "claude", model: "m", usage: { inputTokens: 1, outputTokens: 1 }, costUsd: 0 });
    act(() => void useChatStore.getState().send("next"));
    expect(s.sent("chat:send").at(-1)).toEqual({ sessionId: "s-42", message: "next" });
  });

  it("a send lost with the connection before its ack is given back", () => {
    renderHook(() => useChatSocket("tok"));
    const s = socket();
    s.fire("connect");
    act(() => void useChatStore.getState().send("hello"));
    s.fire("disconnect", "transport close");
    expect(useChatStore.getState()).toMatchObject({ running: false, awaitingSession: false, messages: [] });
    expect(useChatStore.getState().notice).toMatch(/send it again/);
    s.fire("connect");
    expect(s.sent("chat:join")).toEqual([]);
  });

  it("a refused send takes the optimistic message back and says why", () => {
    renderHook(() => useChatSocket("tok"));
    const s = socket();
    s.fire("connect");
    act(() => void useChatStore.getState().send("hello"));
    ack(s, "chat:send", { error: { code: "busy", message: "A turn is already running" } });
    expect(useChatStore.getState()).toMatchObject({ running: false, notice: "A turn is already running", messages: [] });
  });

  it("on (re)connect rejoins the known session and the replay replaces the transcript", () => {
    sessionStorage.setItem(CHAT_SESSION_KEY, "s-7");
    useChatStore.setState({ sessionId: "s-7" });
    renderHook(() => useChatSocket("tok"));
    const s = socket();
    s.fire("connect");
    expect(s.sent("chat:join")).toEqual([{ sessionId: "s-7" }]);
    ack(s, "chat:join", joinAck("s-7", "first"));
    expect(useChatStore.getState().messages.map((m) => m.content)).toEqual(["first"]);

    s.fire("chat:token", { sessionId: "s-7", text: "half" });
    s.fire("chat:token", { sessionId: "other", text: "not mine" });
    expect(useChatStore.getState().messages.at(-1)?.content).toBe("half");

    s.fire("disconnect", "transport close");
    expect(useChatStore.getState().connected).toBe(false);
    s.fire("connect");
    expect(s.sent("chat:join")).toHaveLength(2);
    ack(s, "chat:join", joinAck("s-7", "replayed", true));
    const st = useChatStore.getState();
    expect(st.messages.map((m) => m.content)).toEqual(["replayed"]);
    expect(st.running).toBe(true);
  });

  it("forgets a session the server no longer knows", () => {
    useChatStore.setState({ sessionId: "gone" });
    renderHook(() => useChatSocket("tok"));
    socket().fire("connect");
    ack(socket(), "chat:join", { error: { code: "not_found", message: "unknown session" } });
    expect(useChatStore.getState().sessionId).toBeNull();
    expect(useChatStore.getState().notice).toBeNull();
  });

  it("confirm and abort emit the contract's payloads", () => {
    useChatStore.setState({ sessionId: "s-1" });
    renderHook(() => useChatSocket("tok"));
    const s = socket();
    s.fire("connect");
    ack(s, "chat:join", joinAck("s-1", "stop vm 101"));
    s.fire("chat:tool_use", { sessionId: "s-1", toolUseId: "tu1", toolName: "stop_vm", toolInput: { node: "pve1", vmid: 101 }, tier: "red" });
    s.fire("chat:confirm_needed", { sessionId: "s-1", confirmationId: "c-9", toolUseId: "tu1", toolName: "stop_vm", toolInput: {}, tier: "red", summary: "Stop VM 101", expiresAt: "2099-01-01T00:00:00Z" });
    const tool = useChatStore.getState().messages.at(-1)?.tools[0];
    if (!tool) throw new Error("no tool card");
    act(() => useChatStore.getState().decide(tool.id, true));
    act(() => useChatStore.getState().decide(tool.id, false)); // ignored: already decided
    expect(s.sent("chat:confirm")).toEqual([{ sessionId: "s-1", confirmationId: "c-9", approve: true }]);
    ack(s, "chat:confirm", { error: { code: "expired", message: "Confirmation expired" } });
    expect(useChatStore.getState().messages.at(-1)?.tools[0]).toMatchObject({ decisionError: "Confirmation expired" });
    expect(useChatStore.getState().messages.at(-1)?.tools[0]?.decision).toBeUndefined();

    act(() => useChatStore.getState().abort());
    expect(s.sent("chat:abort")).toEqual([{ sessionId: "s-1" }]);
    expect(useChatStore.getState().aborting).toBe(true);
    s.fire("chat:done", { sessionId: "s-1", provider: "claude", model: "m", usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, stopReason: "aborted" });
    expect(useChatStore.getState()).toMatchObject({ aborting: false, running: false });
  });

  it("drops malformed pushes", () => {
    useChatStore.setState({ sessionId: "s-1" });
    renderHook(() => useChatSocket("tok"));
    const s = socket();
    s.fire("chat:token", { sessionId: "s-1" });
    s.fire("chat:token", "garbage");
    s.fire("chat:route", { sessionId: "s-1", provider: "martian" });
    expect(useChatStore.getState().messages).toEqual([]);
  });

  it("signs out when the token is refused; forgets the chat on sign-out", () => {
    useChatStore.setState({ sessionId: "s-1" });
    const { unmount } = renderHook(() => useChatSocket("tok"));
    const s = socket();
    s.fire("connect_error", new Error("unauthorized"));
    expect(useAuthStore.getState().session).toBeNull();
    expect(useChatStore.getState().sessionId).toBeNull();
    unmount();
    expect(s.disconnectCalls).toBeGreaterThan(0);
    expect(useChatStore.getState().transport).toBeNull();
  });
});
