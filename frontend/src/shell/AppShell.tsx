/** The frame around every screen but the editor: brand, navigation, workspace switcher, user. */
import { NavLink, Outlet } from "react-router-dom";
import { NodeTypesGate } from "../nodes/NodeTypesGate";
import BudgetBanner from "../pages/budgets/BudgetBanner";
import { csrfToken } from "../api/client";
import { ErrorState, Loading } from "../components/States";
import { useWorkspace } from "./workspace";
import { WorkspaceSwitcher } from "./WorkspaceSwitcher";

/** `nav`: the top navigation entries (routes.tsx lists them beside the routes). */
export function AppShell({ nav }: { nav: { to: string; label: string }[] }) {
  const { me, loading, error, current } = useWorkspace();
  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href="/workflows">
          <span aria-hidden className="brand-mark">◆</span> Trellis
        </a>
        <nav aria-label="Main" className="mainnav">
          {nav.map((item) => (
            <NavLink key={item.to} to={item.to} className={({ isActive }) => (isActive ? "active" : "")}>
              {item.label}
            </NavLink>
          ))}
        </nav>
        <div className="topbar-right">
          <WorkspaceSwitcher />
          {me && <span className="user" title={me.email}>{me.email}</span>}
          <form method="post" action="/accounts/logout/">
            <input type="hidden" name="csrfmiddlewaretoken" value={csrfToken()} />
            <button type="submit" className="link-btn">
              Sign out
            </button>
          </form>
        </div>
      </header>
      <main className="page">
        {current && <BudgetBanner />}
        {loading ? <Loading label="Loading your workspace" /> : error ? <ErrorState error={error} /> : current ? <NodeTypesGate><Outlet /></NodeTypesGate> : <Outlet />}
      </main>
    </div>
  );
}
