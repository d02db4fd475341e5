import { useEffect, useState } from "react";
import { formatClock } from "../../lib/format";

/** 24 h clock. Its own state, so the per-second tick re-renders only this text. */
export function Clock() {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    // Align ticks to the wall-clock second so the display never lags by almost a second.
    let interval: ReturnType<typeof setInterval> | undefined;
    const timeout = setTimeout(() => {
      setNow(new Date());
      interval = setInterval(() => setNow(new Date()), 1000);
    }, 1000 - (Date.now() % 1000));
    return () => {
      clearTimeout(timeout);
      clearInterval(interval);
    };
  }, []);
  return (
    <time className="clock" dateTime={now.toISOString()} data-testid="clock">
      {formatClock(now)}
    </time>
  );
}
