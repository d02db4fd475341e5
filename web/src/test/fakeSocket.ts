/**
 * A stand-in for a socket.io client socket that lets a test play the server: `fire` delivers a
 * server event (or connect/disconnect), `emitted` records what the client sent.
 *
 * Use with:
 *   const sockets: FakeSocket[] = [];
 *   vi.mock("socket.io-client", () => ({ io: (ns, opts) => newFakeSocket(sockets, ns, opts) }));
 */
import { act } from "@testing-library/react";

type Handler = (...args: unknown[]) => void;

export class FakeSocket {
  readonly namespace: string;
  readonly opts: Record<string, unknown>;
  handlers = new Map<string, Handler[]>();
  managerHandlers = new Map<string, Handler[]>();
  connected = false;
  active = true;
  emitted: { event: string; args: unknown[] }[] = [];
  connectCalls = 0;
  disconnectCalls = 0;
  io = {
    on: (ev: string, fn: Handler) => {
      this.managerHandlers.set(ev, [...(this.managerHandlers.get(ev) ?? []), fn]);
    },
    removeAllListeners: () => this.managerHandlers.clear(),
  };

  constructor(namespace: string, opts: Record<string, unknown>) {
    this.namespace = namespace;
    this.opts = opts;
  }

  on(ev: string, fn: Handler) {
    this.handlers.set(ev, [...(this.handlers.get(ev) ?? []), fn]);
    return this;
  }
  emit(event: string, ...args: unknown[]) {
    this.emitted.push({ event, args });
    return this;
  }
  connect() {
    this.connectCalls += 1;
    return this;
  }
  disconnect() {
    this.disconnectCalls += 1;
    this.connected = false;
    return this;
  }
  removeAllListeners() {
    this.handlers.clear();
    return this;
  }
  /** Events the client emitted with this name, in order (their first argument). */
  sent(event: string): unknown[] {
    return this.emitted.filter((e) => e.event === event).map((e) => e.args[0]);
  }
  /** Server → client (wrapped in act, as it updates React state). */
  fire(ev: string, ...args: unknown[]) {
    if (ev === "connect") this.connected = true;
    if (ev === "disconnect") this.connected = false;
    act(() => {
      for (const fn of this.handlers.get(ev) ?? []) fn(...args);
      for (const fn of this.managerHandlers.get(ev) ?? []) fn(...args);
    });
  }
}

export function newFakeSocket(registry: FakeSocket[], namespace: string, opts: Record<string, unknown> = {}): FakeSocket {
  const s = new FakeSocket(namespace, opts);
  registry.push(s);
  return s;
}
