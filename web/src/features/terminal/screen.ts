/**
 * The terminal screen as the rest of the UI sees it: a small interface in front of xterm.js, so
 * the session logic and the panel can be tested without a real terminal (xterm needs a canvas
 * and layout that jsdom does not have). The xterm implementation is loaded on demand: the
 * dashboard does not pay for it until the first CONNECT.
 */

export interface TermSize {
  cols: number;
  rows: number;
}

export interface ScreenTheme {
  background: string;
  foreground: string;
  cursor: string;
  cursorAccent: string;
  selectionBackground: string;
  red?: string;
  green?: string;
  yellow?: string;
  brightRed?: string;
  brightGreen?: string;
  brightYellow?: string;
}

export interface TerminalScreen {
  open: (host: HTMLElement) => void;
  /** Bytes from the server (decoded as UTF-8 by the terminal) or text of our own. */
  write: (data: Uint8Array | string) => void;
  /** Typed or pasted text. */
  onInput: (cb: (text: string) => void) => void;
  /** Raw bytes some terminal reports produce (as a binary string). */
  onBinary: (cb: (data: string) => void) => void;
  /** Fits the grid to the host; null when the host has no size (hidden or collapsed). */
  fit: () => TermSize | null;
  size: () => TermSize;
  focus: () => void;
  setTheme: (theme: ScreenTheme) => void;
  dispose: () => void;
}

export interface ScreenOptions {
  theme: ScreenTheme;
  fontSize?: number;
}

export type ScreenFactory = (opts: ScreenOptions) => TerminalScreen;

export function loadScreenFactory(): Promise<ScreenFactory> {
  return import("./xtermScreen").then((m) => m.createXtermScreen);
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const v = style.getPropertyValue(name).trim();
  return v === "" ? fallback : v;
}

/** The terminal's colours from the current theme's CSS variables (re-read on theme change). */
export function readTheme(root: Element = document.documentElement): ScreenTheme {
  const style = getComputedStyle(root);
  const bg = cssVar(style, "--bg", "#0a0a0f");
  const accent = cssVar(style, "--accent", "#ffb800");
  const accentRgb = cssVar(style, "--accent-rgb", "255, 184, 0");
  const ok = cssVar(style, "--ok", "#33e58a");
  const warn = cssVar(style, "--warn", "#ff9a1f");
  const crit = cssVar(style, "--crit", "#ff3b3b");
  return {
    background: bg,
    foreground: cssVar(style, "--text", "#e8e0d0"),
    cursor: accent,
    cursorAccent: bg,
    selectionBackground: `rgba(${accentRgb}, 0.35)`,
    red: crit,
    green: ok,
    yellow: warn,
    brightRed: crit,
    brightGreen: ok,
    brightYellow: accent,
  };
}
