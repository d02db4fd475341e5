import { useEffect, useRef, useState, type FormEvent } from "react";
import { useAuthStore } from "../../stores/auth";
import { describeLoginError, rateLimitMessage } from "./loginErrors";
import "./login.css";

/**
 * "ACCESS CODE" sign-in. Wrong code, rate limiting (with a live countdown from Retry-After) and an
 * unreachable server each get their own message; the submit button is disabled while a request
 * is in flight or the rate limit is running.
 */
export function LoginScreen() {
  const signIn = useAuthStore((s) => s.signIn);
  const notice = useAuthStore((s) => s.notice);
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [retryAt, setRetryAt] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const input = useRef<HTMLInputElement>(null);

  const secondsLeft = retryAt != null ? Math.max(0, Math.ceil((retryAt - now) / 1000)) : 0;
  const limited = secondsLeft > 0;

  // Count down once a second while rate limited.
  useEffect(() => {
    if (retryAt == null) return;
    const id = setInterval(() => {
      const t = Date.now();
      setNow(t);
      if (t >= retryAt) {
        setRetryAt(null);
        clearInterval(id);
      }
    }, 1000);
    return () => clearInterval(id);
  }, [retryAt]);

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || limited || password === "") return;
    setBusy(true);
    setError(null);
    try {
      await signIn(password);
      // Unmounts on success (App swaps to the dashboard).
    } catch (err) {
      const t = Date.now();
      const failure = describeLoginError(err, t);
      setNow(t);
      setRetryAt(failure.retryAt);
      setError(failure.message || null);
      setPassword("");
      setBusy(false);
      input.current?.focus();
    }
  };

  const message = limited ? rateLimitMessage(secondsLeft) : error;

  return (
    <main className="login">
      <form className="login__card" onSubmit={onSubmit} aria-labelledby="login-title" noValidate>
        <div className="login__reactor" aria-hidden="true">
          <span />
          <span />
          <span />
        </div>
        <h1 className="login__title" id="login-title">
          J.A.R.V.I.S.
        </h1>
        <p className="login__subtitle">PROXMOX COMMAND CENTER</p>

        <label className="login__label" htmlFor="login-password">
          ACCESS CODE
        </label>
        <input
          ref={input}
          id="login-password"
          className="input login__input"
          type="password"
          autoComplete="current-password"
          autoFocus
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          disabled={busy}
          aria-invalid={message ? true : undefined}
          aria-describedby={message ? "login-error" : undefined}
          data-testid="login-password"
        />
        <button
          type="submit"
          className="btn btn--primary login__submit"
          disabled={busy || limited || password === ""}
          data-testid="login-submit"
        >
          {busy ? "VERIFYING…" : "AUTHENTICATE"}
        </button>

        <div className="login__messages" aria-live="polite">
          {message && (
            <p className="login__error" id="login-error" role="alert" data-testid="login-error">
              {message}
            </p>
          )}
          {!message && notice && (
            <p className="login__notice" data-testid="login-notice">
              {notice}
            </p>
          )}
        </div>
      </form>
    </main>
  );
}
