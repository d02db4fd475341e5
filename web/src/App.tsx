import { Backdrop } from "./components/Backdrop";
import { LoginScreen } from "./features/auth/LoginScreen";
import { useSessionWatch } from "./features/auth/useSessionWatch";
import { Dashboard } from "./features/layout/Dashboard";
import { useApplyAppearance } from "./features/layout/useApplyAppearance";
import { useAuthStore } from "./stores/auth";

export function App() {
  useApplyAppearance();
  useSessionWatch();
  const session = useAuthStore((s) => s.session);
  return (
    <>
      <Backdrop />
      {/* key: a new token is a new connection, with no state carried over from the last one. */}
      {session ? <Dashboard key={session.token} token={session.token} /> : <LoginScreen />}
    </>
  );
}
