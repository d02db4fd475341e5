import { fireEvent, render, screen } from "@testing-library/react";
import { useMemo, useRef } from "react";
import { beforeEach, describe, expect, it } from "vitest";
import { useUiStore } from "../../stores/ui";
import { isTypingTarget, useKeyboardShortcuts } from "./useKeyboardShortcuts";

function Harness() {
  const left = useRef<HTMLDivElement>(null);
  const center = useRef<HTMLDivElement>(null);
  const right = useRef<HTMLDivElement>(null);
  useKeyboardShortcuts(useMemo(() => ({ left, center, right }), []));
  return (
    <>
      <div ref={left} tabIndex={-1} data-testid="left" />
      <div ref={center} tabIndex={-1} data-testid="center" />
      <div ref={right} tabIndex={-1} data-testid="right" />
      <input data-testid="field" />
    </>
  );
}

beforeEach(() => useUiStore.setState({ visualMode: "jarvis", focusedPanel: null }));

describe("keyboard shortcuts", () => {
  it("1/2/3 focus the columns and Esc clears the focus", () => {
    render(<Harness />);
    fireEvent.keyDown(window, { key: "2" });
    expect(useUiStore.getState().focusedPanel).toBe("center");
    expect(document.activeElement).toBe(screen.getByTestId("center"));
    fireEvent.keyDown(window, { key: "3" });
    expect(document.activeElement).toBe(screen.getByTestId("right"));
    fireEvent.keyDown(window, { key: "Escape" });
    expect(useUiStore.getState().focusedPanel).toBeNull();
    expect(document.activeElement).toBe(document.body);
  });

  it("m cycles jarvis → ops → minimal → jarvis and persists", () => {
    render(<Harness />);
    fireEvent.keyDown(window, { key: "m" });
    expect(useUiStore.getState().visualMode).toBe("ops");
    fireEvent.keyDown(window, { key: "m" });
    expect(useUiStore.getState().visualMode).toBe("minimal");
    fireEvent.keyDown(window, { key: "m" });
    expect(useUiStore.getState().visualMode).toBe("jarvis");
    expect(JSON.parse(localStorage.getItem("jarvis-ui") ?? "{}")).toMatchObject({ visualMode: "jarvis" });
  });

  it("does nothing while typing in a field, or with a modifier held", () => {
    render(<Harness />);
    const field = screen.getByTestId("field");
    field.focus();
    fireEvent.keyDown(field, { key: "m" });
    fireEvent.keyDown(field, { key: "1" });
    expect(useUiStore.getState().visualMode).toBe("jarvis");
    expect(useUiStore.getState().focusedPanel).toBeNull();
    fireEvent.keyDown(field, { key: "Escape" });
    expect(document.activeElement).not.toBe(field);
    fireEvent.keyDown(window, { key: "1", ctrlKey: true });
    expect(useUiStore.getState().focusedPanel).toBeNull();
  });

  it("isTypingTarget knows text fields from buttons", () => {
    const text = document.createElement("input");
    const box = document.createElement("input");
    box.type = "checkbox";
    expect(isTypingTarget(text)).toBe(true);
    expect(isTypingTarget(box)).toBe(false);
    expect(isTypingTarget(document.createElement("textarea"))).toBe(true);
    expect(isTypingTarget(document.createElement("div"))).toBe(false);
  });
});
