/**
 * One session's screen. Owns its xterm instance and its `/terminal` socket for as long as the
 * tab exists; switching tabs or collapsing the panel only hides it (display: none), so the
 * screen keeps its contents and the shell keeps running.
 */
import { memo, useEffect, useRef } from "react";
import { registerSessionControl, sessionControl, useTerminalStore, type TermTab } from "../../stores/terminal";
import { useUiStore } from "../../stores/ui";
import { loadScreenFactory, readTheme, type TerminalScreen } from "./screen";
import { TerminalSession, type SessionStatus } from "./session";

const DIM = "\x1b[2m";
const RED = "\x1b[31m";
const YELLOW = "\x1b[33m";
const RESET = "\x1b[0m";

/** What the screen itself says about the session (the node's name stays out of it: the
 *  status bar shows it, and the screen then holds only what the node sent). */
export function statusNotice(id: number, status: SessionStatus, detail: string | null): string | null {
  switch (status) {
    case "connecting":
      return `${DIM}J.A.R.V.I.S. terminal · session ${id} · connecting…${RESET}\r\n`;
    case "closed":
      return `\r\n${YELLOW}[session closed${detail ? ` · ${detail}` : ""}]${RESET}\r\n`;
    case "error":
      return `\r\n${RED}[error${detail ? ` · ${detail}` : ""}]${RESET}\r\n`;
    default:
      return null;
  }
}

async function fontsReady(): Promise<void> {
  try {
    // xterm measures the cell size when it opens: the bundled font must be there by then.
    await Promise.race([document.fonts.load('13px "JetBrains Mono"'), new Promise((r) => setTimeout(r, 1_500))]);
  } catch {
    // No font loading API (or it failed): xterm falls back to the next font in the stack.
  }
}

export const TerminalPane = memo(function TerminalPane({ tab, active, token }: { tab: TermTab; active: boolean; token: string }) {
  const host = useRef<HTMLDivElement>(null);
  const screenRef = useRef<TerminalScreen | null>(null);
  const { id, node } = tab;

  useEffect(() => {
    let cancelled = false;
    let screen: TerminalScreen | null = null;
    let session: TerminalSession | null = null;
    let observer: ResizeObserver | null = null;
    let frame = 0;
    let unregister: (() => void) | null = null;
    const setStatus = useTerminalStore.getState().setStatus;

    void (async () => {
      let create;
      try {
        create = await loadScreenFactory();
      } catch (err) {
        if (!cancelled) setStatus(id, "error", `terminal failed to load: ${String(err)}`);
        return;
      }
      await fontsReady();
      const el = host.current;
      if (cancelled || !el) return;

      const scr = create({ theme: readTheme() });
      screen = scr;
      screenRef.current = scr;
      scr.open(el);
      scr.fit();

      const sess = new TerminalSession({
        node,
        token,
        size: () => scr.fit() ?? scr.size(),
        events: {
          status: (status, detail) => {
            const notice = statusNotice(id, status, detail);
            if (notice) scr.write(notice);
            useTerminalStore.getState().setStatus(id, status, detail);
          },
          output: (bytes) => scr.write(bytes),
          notice: (text) => scr.write(`\r\n${YELLOW}[${text}]${RESET}\r\n`),
        },
      });
      session = sess;
      scr.onInput((text) => sess.input(text));
      scr.onBinary((data) => sess.inputBinary(data));

      // Fit on every size change (window, column, tab shown again, panel expanded): one per frame.
      observer = new ResizeObserver(() => {
        cancelAnimationFrame(frame);
        frame = requestAnimationFrame(() => {
          const size = scr.fit();
          if (size) sess.resize(size);
        });
      });
      observer.observe(el);

      unregister = registerSessionControl(id, { stop: () => sess.stop(), focus: () => scr.focus() });
      sess.connect();
      if (useTerminalStore.getState().activeId === id) scr.focus();
    })();

    return () => {
      cancelled = true;
      cancelAnimationFrame(frame);
      observer?.disconnect();
      unregister?.();
      session?.dispose();
      screen?.dispose();
      screenRef.current = null;
    };
  }, [id, node, token]);

  // Follow the colour theme (the CSS variables change with it).
  const colorTheme = useUiStore((s) => s.colorTheme);
  useEffect(() => {
    screenRef.current?.setTheme(readTheme());
  }, [colorTheme]);

  useEffect(() => {
    if (active) sessionControl(id)?.focus();
  }, [active, id]);

  return (
    <div
      ref={host}
      className="term__screen"
      role="tabpanel"
      aria-label={`Terminal session ${id} on ${node}`}
      id={`term-panel-${id}`}
      aria-labelledby={`term-tab-${id}`}
      data-testid={active ? "term-screen" : `term-screen-${id}`}
      data-session={id}
      style={active ? undefined : { display: "none" }}
    />
  );
});
