import { useLayoutEffect } from "react";
import { useUiStore } from "../../stores/ui";

/** Mirrors visual mode and colour theme onto <html data-mode data-theme>, where the CSS reads them. */
export function useApplyAppearance(): void {
  const mode = useUiStore((s) => s.visualMode);
  const theme = useUiStore((s) => s.colorTheme);
  // Layout effect: applied before the first paint, so a saved theme never flashes amber first.
  useLayoutEffect(() => {
    const root = document.documentElement;
    root.dataset.mode = mode;
    root.dataset.theme = theme;
  }, [mode, theme]);
}
