/**
 * The real TerminalScreen: xterm.js 6 with the fit addon. DOM renderer (no WebGL): rows are
 * plain DOM under `.xterm-rows`, which the end-to-end tests read. xterm's stylesheet is bundled
 * from node_modules (no CDN).
 */
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";
import type { ScreenOptions, TerminalScreen, TermSize } from "./screen";

export function createXtermScreen({ theme, fontSize = 13 }: ScreenOptions): TerminalScreen {
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: '"JetBrains Mono", ui-monospace, Menlo, Consolas, monospace',
    fontSize,
    lineHeight: 1.1,
    scrollback: 5_000,
    // Output comes from a real PTY, which sends CR LF itself.
    convertEol: false,
    theme,
  });
  const fitAddon = new FitAddon();
  term.loadAddon(fitAddon);
  const size = (): TermSize => ({ cols: term.cols, rows: term.rows });

  return {
    open: (host) => term.open(host),
    write: (data) => term.write(data),
    onInput: (cb) => {
      term.onData(cb);
    },
    onBinary: (cb) => {
      term.onBinary(cb);
    },
    fit: () => {
      const dims = fitAddon.proposeDimensions();
      if (!dims || !Number.isFinite(dims.cols) || !Number.isFinite(dims.rows) || dims.cols < 2 || dims.rows < 1) return null;
      fitAddon.fit();
      return size();
    },
    size,
    focus: () => term.focus(),
    setTheme: (next) => {
      term.options.theme = next;
    },
    dispose: () => term.dispose(),
  };
}
