/**
 * The latest events from `/events` (`event`), newest first, at most 100 — the activity feed
 * renders from here when it lands. A repeated id replaces the older copy (an event acknowledged
 * or resolved is re-sent with the same id).
 */
import { create } from "zustand";
import { resetOnSessionChange } from "./sessionScoped";
import type { JarvisEvent } from "../lib/types/actions";

export const MAX_EVENTS = 100;

interface EventsState {
  events: JarvisEvent[];
  addEvent: (event: JarvisEvent) => void;
  reset: () => void;
}

export const useEventsStore = create<EventsState>()((set) => ({
  events: [],
  addEvent(event) {
    set((s) => {
      const rest = s.events.filter((e) => String(e.id) !== String(event.id));
      return { events: [event, ...rest].slice(0, MAX_EVENTS) };
    });
  },
  reset() {
    set({ events: [] });
  },
}));

resetOnSessionChange(() => useEventsStore.getState().reset());
