/**
 * Structural sharing for pushed lists.
 *
 * The server pushes a whole section (all nodes, all guests) whenever anything in it changes, so
 * every object in a push is new even when only one value moved. Keeping the previous object for
 * every item that is field-for-field equal lets `React.memo` rows skip re-rendering: a CPU tick on
 * one node re-renders one card, not the dashboard (the original re-rendered everything per poll).
 */

/** Deep equality for JSON-shaped values (what arrives over the wire). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ak = Object.keys(a);
  const bk = Object.keys(b);
  if (ak.length !== bk.length) return false;
  const bo = b as Record<string, unknown>;
  const ao = a as Record<string, unknown>;
  return ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && jsonEqual(ao[k], bo[k]));
}

/**
 * `next`, but with each item replaced by its previous instance (same key, equal content) where
 * one exists. Returns `prev` itself when nothing at all changed, so selectors stay referentially
 * stable.
 */
export function reconcileList<T>(prev: readonly T[], next: readonly T[], key: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of prev) byKey.set(key(item), item);
  let changed = prev.length !== next.length;
  const out = next.map((item, i) => {
    const old = byKey.get(key(item));
    if (old !== undefined && jsonEqual(old, item)) {
      if (prev[i] !== old) changed = true;
      return old;
    }
    changed = true;
    return item;
  });
  return changed ? out : (prev as T[]);
}

/** The previous value when equal, else the next one. */
export function reconcileValue<T>(prev: T, next: T): T {
  return jsonEqual(prev, next) ? prev : next;
}
