import "./placeholder.css";

/**
 * A clearly labelled slot for a feature that a later issue delivers, so the layout is final now
 * and nobody mistakes an empty box for a broken one.
 */
export function Placeholder({ title, note, glyph }: { title: string; note: string; glyph: string }) {
  return (
    <div className="placeholder" role="note">
      <span className="placeholder__glyph" aria-hidden="true">
        {glyph}
      </span>
      <span className="placeholder__title">{title}</span>
      <span className="placeholder__note">{note}</span>
    </div>
  );
}
