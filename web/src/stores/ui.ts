/**
 * Presentation settings. Visual mode and colour theme persist (`jarvis-ui`, as in the original);
 * which panel has keyboard focus and which centre tab is shown do not (the centre tab follows the
 * address instead: `/incidents…` opens INCIDENTS, see lib/route.ts).
 */
import { create } from "zustand";
import { readJson, writeJson } from "../lib/persist";

export const VISUAL_MODES = ["jarvis", "ops", "minimal"] as const;
export type VisualMode = (typeof VISUAL_MODES)[number];

export const COLOR_THEMES = {
  amber: "#ffb800",
  cyan: "#00d4ff",
  green: "#33ff88",
  purple: "#b366ff",
  red: "#ff3333",
} as const;
export type ColorTheme = keyof typeof COLOR_THEMES;

export type PanelId = "left" | "center" | "right";

/** The centre column's tabs, in order. */
export const CENTER_TABS = ["HUD", "FEED", "INCIDENTS", "MONITOR", "CHAT"] as const;
export type CenterTab = (typeof CENTER_TABS)[number];

export const UI_STORAGE_KEY = "jarvis-ui";

interface Persisted {
  visualMode: VisualMode;
  colorTheme: ColorTheme;
}

function restore(): Persisted {
  const stored = readJson(UI_STORAGE_KEY) as Partial<Record<keyof Persisted, unknown>> | null;
  const mode = stored?.visualMode;
  const theme = stored?.colorTheme;
  return {
    visualMode: VISUAL_MODES.includes(mode as VisualMode) ? (mode as VisualMode) : "jarvis",
    colorTheme: typeof theme === "string" && theme in COLOR_THEMES ? (theme as ColorTheme) : "amber",
  };
}

interface UiState extends Persisted {
  focusedPanel: PanelId | null;
  centerTab: CenterTab;
  setCenterTab: (tab: CenterTab) => void;
  setVisualMode: (mode: VisualMode) => void;
  cycleVisualMode: () => void;
  setColorTheme: (theme: ColorTheme) => void;
  setFocusedPanel: (panel: PanelId | null) => void;
}

export const useUiStore = create<UiState>()((set, get) => {
  const persist = (patch: Partial<Persisted>) => {
    const { visualMode, colorTheme } = { ...get(), ...patch };
    writeJson(UI_STORAGE_KEY, { visualMode, colorTheme });
    set(patch);
  };
  return {
    ...restore(),
    focusedPanel: null,
    centerTab: "HUD",
    setCenterTab: (centerTab) => set({ centerTab }),
    setVisualMode: (visualMode) => persist({ visualMode }),
    cycleVisualMode: () => {
      const i = VISUAL_MODES.indexOf(get().visualMode);
      persist({ visualMode: VISUAL_MODES[(i + 1) % VISUAL_MODES.length] ?? "jarvis" });
    },
    setColorTheme: (colorTheme) => persist({ colorTheme }),
    setFocusedPanel: (focusedPanel) => set({ focusedPanel }),
  };
});
