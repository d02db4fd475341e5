import type { CSSProperties } from "react";
import { COLOR_THEMES, VISUAL_MODES, useUiStore, type ColorTheme } from "../../stores/ui";

const MODE_HINT = {
  jarvis: "Full HUD: glow, scan lines, grid, motion",
  ops: "Glow only, no ambient effects",
  minimal: "No effects",
} as const;

/** Visual mode buttons (J / O / M, also the `m` key). */
export function ModeSwitch() {
  const mode = useUiStore((s) => s.visualMode);
  const setMode = useUiStore((s) => s.setVisualMode);
  return (
    <div className="segmented" role="group" aria-label="Visual mode">
      {VISUAL_MODES.map((m) => (
        <button
          key={m}
          type="button"
          className="segmented__btn"
          aria-pressed={mode === m}
          title={`${m.toUpperCase()}: ${MODE_HINT[m]} (m cycles)`}
          onClick={() => setMode(m)}
          data-testid={`mode-${m}`}
        >
          {m[0]?.toUpperCase()}
        </button>
      ))}
    </div>
  );
}

/** Colour theme swatches; the choice persists. */
export function ThemePicker() {
  const theme = useUiStore((s) => s.colorTheme);
  const setTheme = useUiStore((s) => s.setColorTheme);
  return (
    <div className="swatches" role="radiogroup" aria-label="Colour theme">
      {(Object.keys(COLOR_THEMES) as ColorTheme[]).map((t) => (
        <button
          key={t}
          type="button"
          role="radio"
          aria-checked={theme === t}
          aria-label={t}
          title={t}
          className="swatch"
          style={{ "--swatch": COLOR_THEMES[t] } as CSSProperties}
          onClick={() => setTheme(t)}
          data-testid={`theme-${t}`}
        />
      ))}
    </div>
  );
}
