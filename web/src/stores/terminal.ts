/**
 * Terminal tabs: one per session, numbered from 1 in the order they were opened (the number is
 * the tab's id and test id, never reused). The sockets and xterm instances live in the panes;
 * a pane registers a small control object here so the toolbar can stop or focus it.
 */
import { create } from "zustand";
import { isFinished, isLive, type SessionStatus } from "../features/terminal/session";
import { resetOnSessionChange } from "./sessionScoped";

export interface TermTab {
  id: number;
  node: string;
  status: SessionStatus;
  /** exit code, error message, or the node that answered ready. */
  detail: string | null;
}

export interface SessionControl {
  stop: () => void;
  focus: () => void;
}

interface TerminalState {
  tabs: TermTab[];
  activeId: number | null;
  nextId: number;
  /** The panel body is hidden (the `t` key); sessions keep running underneath. */
  collapsed: boolean;
  /** The node the selector shows. */
  selectedNode: string | null;

  /** Opens a tab for `node` and makes it active; returns its id. */
  open: (node: string) => number;
  setStatus: (id: number, status: SessionStatus, detail: string | null) => void;
  /** Stops the session (if live) and removes the tab; the next one to the left becomes active. */
  close: (id: number) => void;
  activate: (id: number) => void;
  selectNode: (node: string) => void;
  toggleCollapsed: () => void;
  setCollapsed: (collapsed: boolean) => void;
  reset: () => void;
}

const controls = new Map<number, SessionControl>();

export function registerSessionControl(id: number, control: SessionControl): () => void {
  controls.set(id, control);
  return () => {
    if (controls.get(id) === control) controls.delete(id);
  };
}

export function sessionControl(id: number | null): SessionControl | undefined {
  return id == null ? undefined : controls.get(id);
}

const initial = {
  tabs: [] as TermTab[],
  activeId: null as number | null,
  nextId: 1,
  collapsed: false,
  selectedNode: null as string | null,
};

export const useTerminalStore = create<TerminalState>()((set, get) => ({
  ...initial,

  open(node) {
    const id = get().nextId;
    set((s) => ({
      tabs: [...s.tabs, { id, node, status: "connecting", detail: null }],
      activeId: id,
      nextId: id + 1,
      collapsed: false,
    }));
    return id;
  },

  setStatus(id, status, detail) {
    set((s) => {
      const tab = s.tabs.find((t) => t.id === id);
      if (!tab || (tab.status === status && tab.detail === detail)) return s;
      // A finished session stays finished (a late event must not revive the tab).
      if (isFinished(tab.status)) return s;
      return { tabs: s.tabs.map((t) => (t.id === id ? { ...t, status, detail } : t)) };
    });
  },

  close(id) {
    const s = get();
    const index = s.tabs.findIndex((t) => t.id === id);
    if (index === -1) return;
    const tab = s.tabs[index];
    if (tab && isLive(tab.status)) controls.get(id)?.stop();
    const tabs = s.tabs.filter((t) => t.id !== id);
    const activeId = s.activeId === id ? (tabs[Math.max(0, index - 1)]?.id ?? null) : s.activeId;
    set({ tabs, activeId });
  },

  activate(id) {
    if (get().tabs.some((t) => t.id === id)) set({ activeId: id });
  },

  selectNode(node) {
    set({ selectedNode: node });
  },

  toggleCollapsed() {
    set((s) => ({ collapsed: !s.collapsed }));
  },

  setCollapsed(collapsed) {
    set({ collapsed });
  },

  reset() {
    for (const c of controls.values()) c.stop();
    controls.clear();
    set({ ...initial });
  },
}));

resetOnSessionChange(() => useTerminalStore.getState().reset());
