import "./backdrop.css";

/**
 * The ambient layer: drifting grid and scan lines. Always mounted but drawn only in jarvis mode
 * (CSS on html[data-mode]), so switching modes never remounts the app.
 */
export function Backdrop() {
  return (
    <div className="backdrop" aria-hidden="true">
      <div className="backdrop__grid" />
      <div className="backdrop__vignette" />
      <div className="backdrop__scanlines" />
      <div className="backdrop__sweep" />
    </div>
  );
}
