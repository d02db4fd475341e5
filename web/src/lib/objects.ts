/** A copy of `record` without `key` (records are treated as immutable store state). */
export function without<V>(record: Readonly<Record<string | number, V>>, key: string | number): Record<string, V> {
  const { [String(key)]: _removed, ...rest } = record;
  return rest;
}
