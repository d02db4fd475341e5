import { useEffect, type RefObject } from "react";
import { useTerminalStore } from "../../stores/terminal";
import { useUiStore, type PanelId } from "../../stores/ui";

/** True when the key press belongs to a text field (shortcuts must not eat typed characters). */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  if (tag === "INPUT") {
    const type = (target as HTMLInputElement).type;
    return !["button", "checkbox", "radio", "submit", "reset", "range", "color"].includes(type);
  }
  return false;
}

const PANEL_KEYS: Record<string, PanelId> = { "1": "left", "2": "center", "3": "right" };

/** Inside the terminal every key (Esc included) belongs to the remote shell. */
export function isTerminalTarget(target: EventTarget | null): boolean {
  return target instanceof Element && target.closest(".xterm") !== null;
}

/**
 * Dashboard shortcuts: 1/2/3 focus the left/centre/right column, m cycles the visual mode,
 * t shows/hides the terminal, Esc drops the focus. Ignored while typing in a field (there, Esc
 * just leaves the field), inside the terminal, and when a modifier is held, so browser and OS
 * shortcuts keep working.
 */
export function useKeyboardShortcuts(panels: Record<PanelId, RefObject<HTMLElement | null>>): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (isTerminalTarget(e.target)) return;
      const ui = useUiStore.getState();
      if (isTypingTarget(e.target)) {
        if (e.key === "Escape" && e.target instanceof HTMLElement) e.target.blur();
        return;
      }
      const panel = PANEL_KEYS[e.key];
      if (panel) {
        e.preventDefault();
        ui.setFocusedPanel(panel);
        const el = panels[panel].current;
        el?.focus({ preventScroll: true });
        el?.scrollIntoView?.({ block: "nearest", behavior: "smooth" });
        return;
      }
      if (e.key === "m" || e.key === "M") {
        e.preventDefault();
        ui.cycleVisualMode();
        return;
      }
      if (e.key === "t" || e.key === "T") {
        e.preventDefault();
        useTerminalStore.getState().toggleCollapsed();
        return;
      }
      if (e.key === "Escape") {
        ui.setFocusedPanel(null);
        if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [panels]);
}
