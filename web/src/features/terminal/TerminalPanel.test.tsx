import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { useMemo, useRef } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { useClusterStore } from "../../stores/cluster";
import { useTerminalStore } from "../../stores/terminal";
import { newFakeSocket, type FakeSocket } from "../../test/fakeSocket";
import { node } from "../../test/fixtures";
import { useKeyboardShortcuts } from "../layout/useKeyboardShortcuts";
import type * as ScreenModule from "./screen";
import type { ScreenOptions, TerminalScreen, TermSize } from "./screen";

const sockets: FakeSocket[] = [];
vi.mock("socket.io-client", () => ({
  io: (ns: string, opts: Record<string, unknown>) => newFakeSocket(sockets, ns, opts),
}));

/** A screen that records what it was asked to do, standing in for xterm. */
class FakeScreen implements TerminalScreen {
  written: (string | number[])[] = [];
  host: HTMLElement | null = null;
  inputCb: ((text: string) => void) | null = null;
  disposed = false;
  themes: ScreenOptions["theme"][] = [];
  cur: TermSize = { cols: 80, rows: 24 };
  constructor(opts: ScreenOptions) {
    this.themes.push(opts.theme);
  }
  open = (host: HTMLElement) => {
    this.host = host;
  };
  write = (data: Uint8Array | string) => {
    this.written.push(typeof data === "string" ? data : [...data]);
  };
  onInput = (cb: (text: string) => void) => {
    this.inputCb = cb;
  };
  onBinary = () => undefined;
  fit = () => {
    this.cur = { cols: 100, rows: 30 };
    return this.cur;
  };
  size = () => this.cur;
  focus = () => undefined;
  setTheme = (t: ScreenOptions["theme"]) => {
    this.themes.push(t);
  };
  dispose = () => {
    this.disposed = true;
  };
  text = () => this.written.map((w) => (typeof w === "string" ? w : new TextDecoder().decode(new Uint8Array(w)))).join("");
}

const screens: FakeScreen[] = [];
vi.mock("./screen", async (importOriginal) => {
  const actual = await importOriginal<typeof ScreenModule>();
  return {
    ...actual,
    loadScreenFactory: async () => (opts: ScreenOptions) => {
      const s = new FakeScreen(opts);
      screens.push(s);
      return s;
    },
  };
});

class FakeResizeObserver {
  static instances: FakeResizeObserver[] = [];
  cb: () => void;
  constructor(cb: () => void) {
    this.cb = cb;
    FakeResizeObserver.instances.push(this);
  }
  observe() {}
  disconnect() {}
}

const { TerminalPanel, statusLine } = await import("./TerminalPanel");

function Harness() {
  const left = useRef<HTMLDivElement>(null);
  const center = useRef<HTMLDivElement>(null);
  const right = useRef<HTMLDivElement>(null);
  useKeyboardShortcuts(useMemo(() => ({ left, center, right }), []));
  return <TerminalPanel token="tok" />;
}

beforeEach(() => {
  sockets.length = 0;
  screens.length = 0;
  vi.stubGlobal("ResizeObserver", FakeResizeObserver);
  useTerminalStore.getState().reset();
  useClusterStore.getState().reset();
  useClusterStore.getState().setNodes([node("pve2"), node("pve1"), node("pve3", { status: "offline" })]);
});
afterEach(() => vi.unstubAllGlobals());

async function connect(nodeName: string) {
  fireEvent.change(screen.getByTestId("term-node-select"), { target: { value: nodeName } });
  fireEvent.click(screen.getByTestId("term-connect"));
  await waitFor(() => expect(sockets.length).toBeGreaterThan(0));
  const socket = sockets.at(-1);
  if (!socket) throw new Error("no socket created");
  return socket;
}

describe("TerminalPanel", () => {
  it("lists the live nodes, offline ones disabled, first online selected", () => {
    render(<Harness />);
    const select = screen.getByTestId<HTMLSelectElement>("term-node-select");
    const options = [...select.options].map((o) => [o.value, o.disabled]);
    expect(options).toEqual([
      ["pve1", false],
      ["pve2", false],
      ["pve3", true],
    ]);
    expect(select.value).toBe("pve1");
    expect(screen.getByTestId("term-status")).toHaveTextContent("NO SESSION");
  });

  it("CONNECT opens a tab, fits, then sends start with the fitted size once connected; output and input flow as bytes", async () => {
    render(<Harness />);
    const socket = await connect("pve2");
    expect(screen.getByTestId("term-tab-1")).toHaveTextContent("1:pve2");
    expect(screen.getByTestId("term-screen")).toBeInTheDocument();
    expect(screens[0]?.host).toBe(screen.getByTestId("term-screen"));
    expect(socket.sent("start")).toEqual([]);
    socket.fire("connect");
    expect(socket.sent("start")).toEqual([{ node: "pve2", cols: 100, rows: 30 }]);
    socket.fire("ready", { node: "pve2" });
    expect(screen.getByTestId("term-status")).toHaveTextContent("CONNECTED · pve2");
    socket.fire("data", new TextEncoder().encode("root@pve2:~# ").buffer);
    expect(screens[0]?.text()).toContain("root@pve2:~# ");
    act(() => screens[0]?.inputCb?.("hostname\r"));
    expect(new TextDecoder().decode(socket.sent("data")[0] as Uint8Array)).toBe("hostname\r");
  });

  it("several sessions at once, each on its own socket; tabs switch without remounting", async () => {
    render(<Harness />);
    const a = await connect("pve1");
    a.fire("connect");
    a.fire("ready", { node: "pve1" });
    const b = await connect("pve2");
    expect(sockets).toHaveLength(2);
    expect(screen.getByTestId("term-tab-2")).toHaveAttribute("aria-selected", "true");
    expect(screen.getByTestId("term-screen")).toHaveAttribute("data-session", "2");
    fireEvent.click(screen.getByTestId("term-tab-1"));
    expect(screen.getByTestId("term-screen")).toHaveAttribute("data-session", "1");
    expect(screen.getByTestId("term-screen-2")).toHaveStyle({ display: "none" });
    expect(screens.every((s) => !s.disposed)).toBe(true);
    expect(b.disconnectCalls).toBe(0);
  });

  it("DISCONNECT sends stop; exit marks the tab closed and says so in the screen", async () => {
    render(<Harness />);
    const socket = await connect("pve1");
    socket.fire("connect");
    socket.fire("ready", { node: "pve1" });
    fireEvent.click(screen.getByTestId("term-disconnect"));
    expect(socket.sent("stop")).toHaveLength(1);
    socket.fire("exit", { code: 0 });
    expect(screen.getByTestId("term-tab-1")).toHaveAttribute("data-status", "closed");
    expect(screen.getByTestId("term-status")).toHaveTextContent("CLOSED · pve1 · exit 0");
    expect(screens[0]?.text()).toContain("[session closed · exit 0]");
    expect(screen.getByTestId("term-disconnect")).toBeDisabled();
  });

  it("an error is shown in the screen and the tab", async () => {
    render(<Harness />);
    const socket = await connect("pve1");
    socket.fire("connect");
    socket.fire("error", { code: "ssh_failed", message: "host key mismatch" });
    expect(screen.getByTestId("term-tab-1")).toHaveAttribute("data-status", "error");
    expect(screens[0]?.text()).toContain("ssh_failed: host key mismatch");
  });

  it("`t` collapses and expands the panel; the session and its screen survive", async () => {
    render(<Harness />);
    const socket = await connect("pve1");
    socket.fire("connect");
    fireEvent.keyDown(window, { key: "t" });
    expect(useTerminalStore.getState().collapsed).toBe(true);
    expect(screen.getByTestId("term-screen")).not.toBeVisible();
    fireEvent.keyDown(window, { key: "t" });
    expect(screen.getByTestId("term-screen")).toBeVisible();
    expect(screens).toHaveLength(1);
    expect(screens[0]?.disposed).toBe(false);
    expect(socket.disconnectCalls).toBe(0);
  });

  it("keys typed inside the terminal never trigger dashboard shortcuts", async () => {
    render(<Harness />);
    await connect("pve1");
    const inside = document.createElement("textarea");
    const xterm = document.createElement("div");
    xterm.className = "xterm";
    xterm.appendChild(inside);
    screen.getByTestId("term-screen").appendChild(xterm);
    fireEvent.keyDown(inside, { key: "t" });
    expect(useTerminalStore.getState().collapsed).toBe(false);
  });

  it("closing a tab disposes its screen and socket", async () => {
    render(<Harness />);
    const socket = await connect("pve1");
    socket.fire("connect");
    socket.fire("ready", { node: "pve1" });
    fireEvent.click(screen.getByTestId("term-tab-close-1"));
    expect(socket.sent("stop")).toHaveLength(1);
    expect(screens[0]?.disposed).toBe(true);
    expect(screen.queryByTestId("term-tab-1")).toBeNull();
  });

  it("statusLine summarises a tab", () => {
    expect(statusLine(undefined)).toBe("NO SESSION");
    expect(statusLine({ id: 1, node: "pve1", status: "ready", detail: "pve1" })).toBe("CONNECTED · pve1");
    expect(statusLine({ id: 1, node: "pve1", status: "error", detail: "x: y" })).toBe("ERROR · pve1 · x: y");
  });
});
