import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { newFakeSocket, type FakeSocket } from "../../test/fakeSocket";
import type { SessionStatus } from "./session";

const sockets: FakeSocket[] = [];
vi.mock("socket.io-client", () => ({
  io: (ns: string, opts: Record<string, unknown>) => newFakeSocket(sockets, ns, opts),
}));

const { TerminalSession } = await import("./session");

let size = { cols: 80, rows: 24 };
let statuses: [SessionStatus, string | null][];
let output: number[][];
let notices: string[];

function makeSession(node = "pve1") {
  const session = new TerminalSession({
    node,
    token: "tok",
    size: () => size,
    stopTimeoutMs: 1_000,
    events: {
      status: (s, d) => statuses.push([s, d]),
      output: (bytes) => output.push([...bytes]),
      notice: (text) => notices.push(text),
    },
  });
  session.connect();
  const socket = sockets.at(-1);
  if (!socket) throw new Error("no socket created");
  return { session, socket };
}

beforeEach(() => {
  sockets.length = 0;
  size = { cols: 80, rows: 24 };
  statuses = [];
  output = [];
  notices = [];
});
afterEach(() => vi.useRealTimers());

const bytesOf = (v: unknown) => [...(v as Uint8Array)];

describe("TerminalSession", () => {
  it("one new connection per session to /terminal, never reconnecting, with the token", () => {
    makeSession();
    makeSession();
    expect(sockets).toHaveLength(2);
    expect(sockets[0]?.namespace).toBe("/terminal");
    expect(sockets[0]?.opts).toMatchObject({ auth: { token: "tok" }, forceNew: true, reconnection: false, path: "/socket.io" });
    expect(sockets[0]?.connectCalls).toBe(1);
  });

  it("sends start {node, cols, rows} only after the socket connects, with the fitted size", () => {
    const { socket } = makeSession("pve2");
    expect(socket.emitted).toEqual([]);
    size = { cols: 120, rows: 33 };
    socket.fire("connect");
    expect(socket.emitted.map((e) => e.event)).toEqual(["start"]);
    expect(socket.sent("start")).toEqual([{ node: "pve2", cols: 120, rows: 33 }]);
    expect(statuses.map(([s]) => s)).toEqual(["connecting", "starting"]);
  });

  it("never sends resize before start; sends it after ready when the size changed", () => {
    const { session, socket } = makeSession();
    session.resize({ cols: 100, rows: 30 });
    expect(socket.sent("resize")).toEqual([]);
    socket.fire("connect");
    size = { cols: 90, rows: 20 };
    socket.fire("ready", { node: "pve1" });
    expect(socket.emitted.map((e) => e.event)).toEqual(["start", "resize"]);
    expect(socket.sent("resize")).toEqual([{ cols: 90, rows: 20 }]);
    session.resize({ cols: 90, rows: 20 }); // unchanged: nothing sent
    session.resize({ cols: 91, rows: 20 });
    expect(socket.sent("resize")).toEqual([
      { cols: 90, rows: 20 },
      { cols: 91, rows: 20 },
    ]);
  });

  it("streams keystrokes as UTF-8 bytes; typed-ahead input is sent at ready", () => {
    const { session, socket } = makeSession();
    socket.fire("connect");
    session.input("ls");
    expect(socket.sent("data")).toEqual([]);
    socket.fire("ready", { node: "pve1" });
    session.input("é\r");
    expect(socket.sent("data").map(bytesOf)).toEqual([
      [0x6c, 0x73],
      [0xc3, 0xa9, 0x0d],
    ]);
  });

  it("hands binary output to the screen as bytes", () => {
    const { socket } = makeSession();
    socket.fire("connect");
    socket.fire("ready", { node: "pve1" });
    socket.fire("data", new Uint8Array([0x1b, 0x5b, 0x6d, 0xe2, 0x82]).buffer);
    socket.fire("data", new Uint8Array([0xac]).buffer);
    expect(output).toEqual([[0x1b, 0x5b, 0x6d, 0xe2, 0x82], [0xac]]);
  });

  it("exit closes the session with the code and the socket", () => {
    const { session, socket } = makeSession();
    socket.fire("connect");
    socket.fire("ready", { node: "pve1" });
    socket.fire("exit", { code: 0 });
    expect(statuses.at(-1)).toEqual(["closed", "exit 0"]);
    expect(session.status).toBe("closed");
    expect(socket.disconnectCalls).toBe(1);
    session.input("x");
    expect(socket.sent("data")).toEqual([]);
  });

  it("an error before ready ends it with the server's code and message", () => {
    const { socket } = makeSession();
    socket.fire("connect");
    socket.fire("error", { code: "ssh_error", message: "connection refused" });
    expect(statuses.at(-1)).toEqual(["error", "ssh_error: connection refused"]);
    expect(socket.disconnectCalls).toBe(1);
  });

  it("once running, a per-message error is a notice; 'closed' / 'no_session' end it", () => {
    const { session, socket } = makeSession();
    socket.fire("connect");
    socket.fire("ready", { node: "pve1" });
    socket.fire("error", { code: "too_large", message: "input chunks are limited to 65536 bytes" });
    expect(session.status).toBe("ready");
    expect(notices).toEqual(["too_large: input chunks are limited to 65536 bytes"]);
    socket.fire("error", { code: "closed", message: "the session has ended" });
    expect(statuses.at(-1)).toEqual(["error", "closed: the session has ended"]);
  });

  it("a big paste goes out in chunks the server accepts, in order", () => {
    const { session, socket } = makeSession();
    socket.fire("connect");
    socket.fire("ready", { node: "pve1" });
    session.input("x".repeat(40_000));
    const chunks = socket.sent("data") as Uint8Array[];
    expect(chunks.map((c) => c.byteLength)).toEqual([16_384, 16_384, 7_232]);
  });

  it("a refused handshake and a dropped connection are reported", () => {
    const a = makeSession();
    a.socket.fire("connect_error", new Error("unauthorized"));
    expect(statuses.at(-1)).toEqual(["error", "not authorized — sign in again"]);
    statuses = [];
    const b = makeSession();
    b.socket.fire("connect");
    b.socket.fire("ready", {});
    b.socket.fire("disconnect", "transport close");
    expect(statuses.at(-1)).toEqual(["closed", "connection lost (transport close)"]);
  });

  it("stop sends stop and closes on exit, or after the timeout", () => {
    vi.useFakeTimers();
    const a = makeSession();
    a.socket.fire("connect");
    a.socket.fire("ready", { node: "pve1" });
    a.session.stop();
    expect(a.socket.sent("stop")).toHaveLength(1);
    expect(a.session.status).toBe("closing");
    a.socket.fire("exit", { code: 130 });
    expect(a.session.status).toBe("closed");

    const b = makeSession();
    b.socket.fire("connect");
    b.socket.fire("ready", { node: "pve1" });
    b.session.stop();
    vi.advanceTimersByTime(1_000);
    expect(b.session.status).toBe("closed");
    expect(b.socket.disconnectCalls).toBe(1);
  });

  it("dispose stops a live shell and reports nothing more", () => {
    const { session, socket } = makeSession();
    socket.fire("connect");
    socket.fire("ready", { node: "pve1" });
    const before = statuses.length;
    session.dispose();
    expect(socket.sent("stop")).toHaveLength(1);
    expect(socket.disconnectCalls).toBe(1);
    expect(statuses.length).toBe(before);
  });
});
