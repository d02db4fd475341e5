import type { ReactNode } from "react";
import "./panel.css";

interface PanelProps {
  title: string;
  /** Small text or controls on the right of the header (counts, toggles). */
  aside?: ReactNode;
  children: ReactNode;
  className?: string;
  testId?: string;
}

/**
 * The HUD frame every panel shares: bracketed corners and an Orbitron header. The keyboard-focus
 * highlight (1/2/3) comes from the enclosing column (`.column[data-focused]`).
 */
export function Panel({ title, aside, children, className, testId }: PanelProps) {
  return (
    <section className={`panel${className ? ` ${className}` : ""}`} aria-label={title} data-testid={testId}>
      <header className="panel__header">
        <h2 className="panel__title">{title}</h2>
        {aside != null && <div className="panel__aside">{aside}</div>}
      </header>
      <div className="panel__body">{children}</div>
    </section>
  );
}
