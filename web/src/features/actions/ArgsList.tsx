import type { ToolArgs } from "../../lib/types/actions";

const FIRST = ["node", "vmid"];

function show(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value) ?? String(value);
}

/** A tool's arguments as a key/value list, node and vmid first. */
export function ArgsList({ args, testId }: { args: ToolArgs; testId?: string }) {
  const keys = Object.keys(args).sort((a, b) => {
    const ia = FIRST.indexOf(a);
    const ib = FIRST.indexOf(b);
    if (ia !== -1 || ib !== -1) return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib);
    return a.localeCompare(b);
  });
  if (keys.length === 0) return null;
  return (
    <dl className="kv confirm__args" data-testid={testId}>
      {keys.map((k) => (
        <div key={k} className="confirm__arg" data-testid={testId ? `${testId}-${k}` : undefined}>
          <dt>{k.toUpperCase()}</dt>
          <dd>{show(args[k])}</dd>
        </div>
      ))}
    </dl>
  );
}
