import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useAuthStore } from "../../stores/auth";
import { useChatStore, type ChatTransport } from "../../stores/chat";
import { jsonResponse } from "../../test/fixtures";
import { ChatPanel } from "./ChatPanel";
import { parseServerEvent } from "./parse";
import type { ChatServerEventName } from "./types";

const S = "s-1";
let status: Record<string, unknown>;
let transport: ReturnType<typeof vi.fn<ChatTransport>>;

const slashCommands = [
  { command: "/status", usage: "/status", description: "Cluster summary" },
  { command: "/vms", usage: "/vms [node]", description: "List guests" },
];

function push(name: ChatServerEventName, payload: Record<string, unknown>) {
  const ev = parseServerEvent(name, { sessionId: S, ...payload });
  if (!ev) throw new Error(`bad test event ${name}`);
  act(() => useChatStore.getState().handle(ev));
}
const sent = (event: string) => transport.mock.calls.filter(([e]) => e === event).map(([, payload]) => payload as unknown);

beforeEach(() => {
  useAuthStore.setState({ session: { token: "tok", expiresAt: "2099-01-01T00:00:00Z" }, notice: null });
  useChatStore.getState().reset();
  transport = vi.fn<ChatTransport>();
  useChatStore.setState({ transport, connected: true, sessionId: S });
  status = { claude: { configured: true, model: "claude-sonnet" }, local: { configured: false, model: null }, scripted: false, label: "JARVIS", slashCommands };
  vi.stubGlobal(
    "fetch",
    vi.fn(async (url: string) => {
      if (url === "/api/chat/status") return jsonResponse(200, status);
      if (url.startsWith("/api/chat/sessions")) {
        return jsonResponse(200, { sessions: [{ id: S, title: "Cluster check", createdAt: "t", updatedAt: "t", messageCount: 2, costUsd: 0.01 }] });
      }
      return jsonResponse(404, { error: { code: "not_found", message: "?" } });
    }),
  );
});
afterEach(() => vi.unstubAllGlobals());

async function renderPanel() {
  render(<ChatPanel />);
  await waitFor(() => expect(useChatStore.getState().status).not.toBeNull());
}

describe("ChatPanel", () => {
  it("streams assistant markdown with a provider badge and the route reason", async () => {
    await renderPanel();
    expect(await screen.findByTestId(`chat-session-${S}`)).toHaveTextContent("Cluster check");
    push("chat:route", { provider: "claude", model: "claude-sonnet", reason: "cluster action or query", reasonCode: "toolIntent", fallback: false });
    push("chat:token", { text: "All **4 nodes**" });
    const reply = screen.getByTestId("chat-message");
    expect(reply).toHaveAttribute("data-streaming", "true");
    expect(screen.getByTestId("chat-route")).toHaveTextContent("→ Claude · cluster action or query");
    expect(within(reply).getByTestId("chat-provider-badge")).toHaveAttribute("data-provider", "claude");
    push("chat:token", { text: " online." });
    expect(screen.getByTestId("chat-text").querySelector("strong")).toHaveTextContent("4 nodes");
    expect(screen.getByTestId("chat-text")).toHaveTextContent("All 4 nodes online.");
    expect(screen.getByTestId("chat-messages")).toHaveAttribute("aria-live", "polite");
    push("chat:done", { provider: "claude", model: "claude-sonnet", usage: { inputTokens: 1200, outputTokens: 80 }, costUsd: 0.0042, stopReason: "end_turn" });
    expect(reply).toHaveAttribute("data-streaming", "false");
    expect(screen.getByTestId("chat-usage")).toHaveTextContent("1,200 in · 80 out · $0.0042");
  });

  it("shows a fallback notice and the scripted-demo label", async () => {
    status = { ...status, scripted: true, label: "scripted demo" };
    await renderPanel();
    push("chat:route", { provider: "claude", model: "c", reason: "tool intent", fallback: false });
    push("chat:route", { provider: "local", model: "qwen", reason: "Claude overloaded (529)", fallback: true });
    expect(screen.getByTestId("chat-fallback")).toHaveTextContent("Fallback → Local · Claude overloaded (529)");
    expect(screen.getByTestId("chat-provider-badge")).toHaveTextContent(/LOCAL.*qwen.*scripted demo/);
  });

  it("shows a running tool card, then its result", async () => {
    await renderPanel();
    push("chat:tool_use", { toolUseId: "t1", toolName: "get_cluster_status", toolInput: { verbose: true }, tier: "green" });
    const card = screen.getByTestId("chat-tool");
    expect(card).toHaveAttribute("data-status", "running");
    expect(within(card).getByTestId("tier-badge")).toHaveTextContent("GREEN");
    expect(within(card).getByTestId("chat-tool-args-verbose")).toHaveTextContent("true");
    push("chat:tool_result", { toolUseId: "t1", result: '{"nodes":4}', isError: false, status: "ok" });
    expect(card).toHaveAttribute("data-status", "ok");
    expect(within(card).getByTestId("chat-tool-result")).toHaveTextContent('{"nodes":4}');
  });

  it("confirmation card: AUTHORIZE emits chat:confirm once and the result resolves it", async () => {
    await renderPanel();
    push("chat:tool_use", { toolUseId: "t2", toolName: "stop_vm", toolInput: { node: "pve1", vmid: 101 }, tier: "red" });
    push("chat:confirm_needed", {
      confirmationId: "c-1",
      toolUseId: "t2",
      toolName: "stop_vm",
      toolInput: { node: "pve1", vmid: 101 },
      tier: "red",
      summary: "Stop VM 101 (web) on pve1",
      expiresAt: new Date(Date.now() + 120_000).toISOString(),
    });
    const card = screen.getByTestId("chat-confirm");
    expect(card).toHaveAttribute("data-confirmation-id", "c-1");
    expect(screen.getByTestId("chat-confirm-summary")).toHaveTextContent("Stop VM 101 (web) on pve1");
    expect(screen.getByTestId("chat-confirm-args-vmid")).toHaveTextContent("101");
    expect(screen.getByTestId("chat-confirm-expiry")).toHaveTextContent(/^[12]:\d\d$/);
    await userEvent.click(screen.getByTestId("chat-confirm-approve"));
    expect(sent("chat:confirm")).toEqual([{ sessionId: S, confirmationId: "c-1", approve: true }]);
    expect(screen.getByTestId("chat-confirm-approve")).toBeDisabled();
    expect(screen.getByTestId("chat-confirm-deny")).toBeDisabled();
    push("chat:tool_result", { toolUseId: "t2", result: '{"status":"OK"}', isError: false, status: "ok" });
    expect(screen.queryByTestId("chat-confirm")).toBeNull();
    expect(screen.getByTestId("chat-tool")).toHaveAttribute("data-status", "ok");
  });

  it("DENY emits approve: false; the result's status 'denied' shows", async () => {
    await renderPanel();
    push("chat:confirm_needed", { confirmationId: "c-2", toolUseId: "t3", toolName: "stop_vm", toolInput: {}, tier: "red", summary: "Stop VM 102", expiresAt: "2099-01-01T00:00:00Z" });
    await userEvent.click(screen.getByTestId("chat-confirm-deny"));
    expect(sent("chat:confirm")).toEqual([{ sessionId: S, confirmationId: "c-2", approve: false }]);
    push("chat:tool_result", { toolUseId: "t3", result: "Denied: the operator denied stop_vm.", isError: true, status: "denied" });
    expect(screen.getByTestId("chat-tool")).toHaveAttribute("data-status", "denied");
    expect(screen.getByTestId("chat-tool-status")).toHaveTextContent("DENIED");
  });

  it("shows a blocked card with the reason and an error line", async () => {
    await renderPanel();
    push("chat:blocked", { toolUseId: "t4", toolName: "reboot_node", reason: "BLACK tier actions are blocked", tier: "black" });
    expect(screen.getByTestId("chat-blocked")).toHaveTextContent("Blocked: BLACK tier actions are blocked");
    expect(screen.getByTestId("chat-tool")).toHaveAttribute("data-status", "blocked");
    push("chat:error", { code: "llm_error", message: "Claude answered 500" });
    expect(screen.getByTestId("chat-error")).toHaveTextContent("Claude answered 500");
  });

  it("a never-run call shows NOT EXECUTED; a result without a status falls back to isError", async () => {
    await renderPanel();
    push("chat:tool_use", { toolUseId: "t5", toolName: "stop_vm", toolInput: {}, tier: "red" });
    push("chat:tool_result", { toolUseId: "t5", result: "Not executed: the tool-call limit of this turn was reached.", isError: true, status: "not_executed" });
    expect(screen.getByTestId("chat-tool")).toHaveAttribute("data-status", "not_executed");
    expect(screen.getByTestId("chat-tool-status")).toHaveTextContent("NOT EXECUTED");
    push("chat:tool_use", { toolUseId: "t6", toolName: "get_vms", toolInput: {}, tier: "green" });
    push("chat:tool_result", { toolUseId: "t6", result: "Denied: looks like a denial", isError: true });
    expect(screen.getAllByTestId("chat-tool")[1]).toHaveAttribute("data-status", "error");
  });

  it("Enter sends, Shift+Enter adds a line; ABORT replaces SEND while a turn runs", async () => {
    await renderPanel();
    const input = screen.getByTestId("chat-input");
    await userEvent.type(input, "line one{Shift>}{Enter}{/Shift}line two");
    expect(input).toHaveValue("line one\nline two");
    await userEvent.type(input, "{Enter}");
    expect(sent("chat:send")).toEqual([{ sessionId: S, message: "line one\nline two" }]);
    expect(input).toHaveValue("");
    expect(input).toBeDisabled();
    expect(screen.queryByTestId("chat-send")).toBeNull();
    await userEvent.click(screen.getByTestId("chat-abort"));
    expect(sent("chat:abort")).toEqual([{ sessionId: S }]);
    expect(screen.getByTestId("chat-abort")).toBeDisabled();
    push("chat:done", { provider: "claude", model: "m", usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, stopReason: "aborted" });
    expect(screen.getByTestId("chat-send")).toBeInTheDocument();
    expect(input).toBeEnabled();
  });

  it("never renders raw HTML from the model", async () => {
    await renderPanel();
    push("chat:token", {
      text: 'Hi <img src=x onerror=alert(1)> <script>alert(2)</script>\n\n[click](javascript:alert(3)) ![pic](http://evil/x.png) <a href="x" onclick="alert(4)">a</a>',
    });
    const text = screen.getByTestId("chat-text");
    expect(text.querySelector("img")).toBeNull();
    expect(text.querySelector("script")).toBeNull();
    expect(text.querySelector("[onerror], [onclick]")).toBeNull();
    for (const a of text.querySelectorAll("a")) expect(a.getAttribute("href") ?? "").not.toMatch(/^javascript:/i);
    // The escaped tag is shown as text, so the operator sees what the model wrote.
    expect(text).toHaveTextContent("<img src=x onerror=alert(1)>");
  });

  it("without a provider says so and lists the slash commands; / shows hints", async () => {
    status = { ...status, claude: { configured: false, model: null } };
    useChatStore.setState({ sessionId: null });
    await renderPanel();
    const empty = await screen.findByTestId("chat-empty");
    expect(empty).toHaveTextContent("No LLM configured — slash commands still work");
    expect(empty).toHaveTextContent("/vms [node]");
    await userEvent.type(screen.getByTestId("chat-input"), "/v");
    const hints = screen.getByTestId("chat-slash-hints");
    expect(within(hints).queryByTestId("chat-slash-hint-status")).toBeNull();
    await userEvent.click(within(hints).getByTestId("chat-slash-hint-vms"));
    expect(screen.getByTestId("chat-input")).toHaveValue("/vms ");
  });

  it("NEW CHAT clears the transcript; picking a session joins it", async () => {
    await renderPanel();
    push("chat:token", { text: "old" });
    await userEvent.click(screen.getByTestId("chat-new"));
    expect(useChatStore.getState().sessionId).toBeNull();
    expect(screen.queryByTestId("chat-message")).toBeNull();
    await userEvent.click(await screen.findByTestId(`chat-session-${S}`));
    expect(sent("chat:join")).toEqual([{ sessionId: S }]);
  });
});
