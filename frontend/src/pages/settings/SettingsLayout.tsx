/** Settings: one tab per concern; each tab is its own route module. */
import { NavLink, Outlet } from "react-router-dom";
import { useWorkspace } from "../../shell/workspace";

const TABS = [
  { to: "/settings/members", label: "Members" },
  { to: "/settings/tokens", label: "API tokens" },
  { to: "/settings/secrets", label: "Secrets" },
  { to: "/settings/invitations", label: "Invitations" },
  { to: "/settings/providers", label: "Model providers" },
  { to: "/settings/budgets", label: "Budgets" },
  { to: "/settings/mcp-servers", label: "MCP servers" },
];

export default function SettingsLayout() {
  const { current } = useWorkspace();
  return (
    <section>
      <div className="page-head">
        <h1>Settings {current && <span className="muted">· {current.name}</span>}</h1>
      </div>
      <nav className="tabs" aria-label="Settings">
        {TABS.map((t) => (
          <NavLink key={t.to} to={t.to} className={({ isActive }) => (isActive ? "tab active" : "tab")}>
            {t.label}
          </NavLink>
        ))}
      </nav>
      <Outlet />
    </section>
  );
}
