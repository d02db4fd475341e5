import { formatCountdown } from "../../lib/format";
import { useNow } from "../../lib/useNow";

/** "4:59" until `expiresAt`, ticking once a second (only this text re-renders). */
export function Countdown({ expiresAt, expiredText = "EXPIRED", testId }: { expiresAt: string; expiredText?: string; testId?: string }) {
  const now = useNow(1_000);
  const remaining = Date.parse(expiresAt) - now;
  const expired = Number.isFinite(remaining) && remaining <= 0;
  return (
    <span className={`pending__expiry${!expired && remaining < 30_000 ? " is-urgent" : ""}`} data-testid={testId} role="timer">
      {expired ? expiredText : formatCountdown(remaining)}
    </span>
  );
}
