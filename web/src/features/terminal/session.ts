/**
 * One terminal session = one `/terminal` socket (its own connection, never reconnected: a PTY
 * does not survive a new connection).
 *
 *   connect ─► socket connects ─► emit start {node, cols, rows}   (size from the fitted screen)
 *           ◄─ ready {node}     ─► resize if the screen changed meanwhile; queued keystrokes go out
 *           ◄─ data (bytes)     ─► screen
 *   keys    ─► data (UTF-8 bytes, only once started)
 *   resize  ─► resize {cols, rows} (only after start — the original sent it before start)
 *   stop    ─► stop, then exit {code} ends it (or a timeout does)
 *           ◄─ exit / error / disconnect ─► closed or error, socket closed
 */
import { io, type Socket } from "socket.io-client";
import type { TerminalError, TerminalExit, TerminalReady, TerminalResize, TerminalStart } from "../../lib/types/actions";
import { isAuthError } from "../../lib/authedSocket";
import { decodeOutput, encodeBinaryString, encodeInput } from "./codec";
import type { TermSize } from "./screen";

export type SessionStatus = "connecting" | "starting" | "ready" | "closing" | "closed" | "error";

/** The session can no longer do anything. */
export const isFinished = (s: SessionStatus) => s === "closed" || s === "error";
/** The session holds (or is getting) a shell. */
export const isLive = (s: SessionStatus) => s === "connecting" || s === "starting" || s === "ready";

interface ServerToClient {
  ready: (payload: TerminalReady) => void;
  data: (payload: unknown) => void;
  exit: (payload: TerminalExit) => void;
  error: (payload: TerminalError) => void;
}

interface ClientToServer {
  start: (payload: TerminalStart) => void;
  data: (payload: Uint8Array) => void;
  resize: (payload: TerminalResize) => void;
  stop: () => void;
}

export type TerminalSocket = Socket<ServerToClient, ClientToServer>;

export interface SessionEvents {
  status: (status: SessionStatus, detail: string | null) => void;
  output: (bytes: Uint8Array) => void;
  /** Something to tell the operator that does not end the session. */
  notice?: (text: string) => void;
}

export interface SessionOptions {
  node: string;
  token: string;
  /** The screen's current size (already fitted). */
  size: () => TermSize;
  events: SessionEvents;
  /** How long to wait for `exit` after `stop` before closing the socket anyway. */
  stopTimeoutMs?: number;
}

/** Keystrokes typed before the shell is ready are kept (up to this many bytes) and sent at ready. */
const MAX_QUEUED_INPUT = 4_096;
/** Input is sent in chunks of at most this many bytes (the server refuses chunks over 64 KiB). */
export const INPUT_CHUNK = 16 * 1024;
/** `error` codes that mean the server no longer has the session. */
const SESSION_GONE = new Set(["closed", "no_session"]);

export class TerminalSession {
  private socket: TerminalSocket | null = null;
  private state: SessionStatus = "connecting";
  private sentSize: TermSize | null = null;
  private queued: Uint8Array[] = [];
  private queuedBytes = 0;
  private stopTimer: ReturnType<typeof setTimeout> | undefined;
  private disposed = false;
  private readonly opts: SessionOptions;

  constructor(opts: SessionOptions) {
    this.opts = opts;
  }

  get status(): SessionStatus {
    return this.state;
  }

  connect(): void {
    if (this.socket || this.disposed) return;
    const socket: TerminalSocket = io("/terminal", {
      path: "/socket.io",
      auth: { token: this.opts.token },
      forceNew: true,
      reconnection: false,
      autoConnect: false,
    });
    this.socket = socket;
    this.setStatus("connecting", null);

    socket.on("connect", () => {
      if (this.state !== "connecting") return;
      const size = this.opts.size();
      this.sentSize = size;
      this.setStatus("starting", null);
      socket.emit("start", { node: this.opts.node, cols: size.cols, rows: size.rows });
    });
    socket.on("ready", (payload) => {
      if (this.state !== "starting") return;
      this.setStatus("ready", typeof payload?.node === "string" ? payload.node : this.opts.node);
      this.resize(this.opts.size());
      for (const chunk of this.queued) socket.emit("data", chunk);
      this.queued = [];
      this.queuedBytes = 0;
    });
    socket.on("data", (payload) => {
      if (isFinished(this.state)) return;
      const bytes = decodeOutput(payload);
      if (bytes && bytes.byteLength > 0) this.opts.events.output(bytes);
    });
    socket.on("exit", (payload) => {
      const code = typeof payload?.code === "number" ? payload.code : null;
      this.finish("closed", code === null ? "session ended" : `exit ${code}`);
    });
    socket.on("error", (payload) => {
      const code = typeof payload?.code === "string" ? payload.code : "error";
      const message = typeof payload?.message === "string" ? payload.message : "terminal error";
      // Before ready, an error means the shell could not be opened. Once it runs, an error
      // about one message (an oversized chunk, say) is only a notice; the session ends with
      // `exit`, or with an error saying it is gone.
      if (this.state === "ready" && !SESSION_GONE.has(code)) {
        this.opts.events.notice?.(`${code}: ${message}`);
        return;
      }
      this.finish("error", `${code}: ${message}`);
    });
    socket.on("connect_error", (err) => {
      this.finish("error", isAuthError(err) ? "not authorized — sign in again" : `cannot connect: ${err.message}`);
    });
    socket.on("disconnect", (reason) => {
      if (isFinished(this.state)) return;
      this.finish("closed", this.state === "closing" || reason === "io client disconnect" ? "disconnected" : `connection lost (${reason})`);
    });
    socket.connect();
  }

  /** Typed or pasted text. */
  input(text: string): void {
    this.send(encodeInput(text));
  }

  /** Bytes from xterm's binary reports. */
  inputBinary(data: string): void {
    this.send(encodeBinaryString(data));
  }

  private send(bytes: Uint8Array): void {
    if (bytes.byteLength === 0 || !this.socket) return;
    if (this.state === "ready") {
      // A big paste goes out in pieces, in order.
      for (let at = 0; at < bytes.byteLength; at += INPUT_CHUNK) this.socket.emit("data", bytes.subarray(at, at + INPUT_CHUNK));
    } else if ((this.state === "connecting" || this.state === "starting") && this.queuedBytes + bytes.byteLength <= MAX_QUEUED_INPUT) {
      this.queued.push(bytes);
      this.queuedBytes += bytes.byteLength;
    }
  }

  /** The screen changed size: tell the PTY (after start only, and only when it differs). */
  resize(size: TermSize): void {
    if (!this.socket || (this.state !== "starting" && this.state !== "ready")) return;
    if (!(size.cols > 0 && size.rows > 0)) return;
    if (this.sentSize && this.sentSize.cols === size.cols && this.sentSize.rows === size.rows) return;
    this.sentSize = size;
    this.socket.emit("resize", { cols: size.cols, rows: size.rows });
  }

  /** DISCONNECT: ask the server to end the shell; close the socket when it has (or soon anyway). */
  stop(): void {
    if (!this.socket || !isLive(this.state)) return;
    if (!this.socket.connected || this.state === "connecting") {
      this.finish("closed", "disconnected");
      return;
    }
    this.socket.emit("stop");
    this.setStatus("closing", null);
    this.stopTimer = setTimeout(() => this.finish("closed", "disconnected"), this.opts.stopTimeoutMs ?? 3_000);
  }

  /** Tears everything down without further events (the tab is gone). */
  dispose(): void {
    if (this.disposed) return;
    if (this.socket?.connected && isLive(this.state)) this.socket.emit("stop");
    this.disposed = true;
    clearTimeout(this.stopTimer);
    const socket = this.socket;
    this.socket = null;
    socket?.removeAllListeners();
    socket?.disconnect();
  }

  private finish(status: "closed" | "error", detail: string): void {
    if (isFinished(this.state)) return;
    clearTimeout(this.stopTimer);
    this.queued = [];
    this.setStatus(status, detail);
    const socket = this.socket;
    if (socket) {
      socket.removeAllListeners();
      socket.disconnect();
    }
  }

  private setStatus(status: SessionStatus, detail: string | null): void {
    this.state = status;
    if (!this.disposed) this.opts.events.status(status, detail);
  }
}
