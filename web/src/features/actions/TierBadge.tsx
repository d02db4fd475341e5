import type { ToolTier } from "../../lib/types/actions";

/** GREEN / YELLOW / RED / BLACK, coloured by tier. */
export function TierBadge({ tier }: { tier: ToolTier }) {
  return (
    <span className={`tier tier--${tier}`} data-testid="tier-badge" title={`${tier.toUpperCase()} tier`}>
      {tier.toUpperCase()}
    </span>
  );
}
