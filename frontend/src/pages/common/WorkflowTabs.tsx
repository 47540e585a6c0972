/** The header of every per-workflow screen: its name, a link into the editor, and tabs for runs/versions/triggers/deploy. */
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { Link, NavLink } from "react-router-dom";
import { getWorkflow } from "../../api/workflows";
import { useCan } from "./roles";

export function WorkflowTabs({ workflowId }: { workflowId: string }) {
  const wf = useQuery({ queryKey: ["workflow", workflowId], queryFn: () => getWorkflow(workflowId) });
  const canEdit = useCan("editor");
  const tabs = [
    { to: `/workflows/${workflowId}/runs`, label: "Runs" },
    { to: `/workflows/${workflowId}/versions`, label: "Versions" },
    { to: `/workflows/${workflowId}/triggers`, label: "Triggers" },
    { to: `/workflows/${workflowId}/deploy`, label: "Deploy" },
    { to: `/workflows/${workflowId}/evals`, label: "Evals" },
  ];
  return (
    <>
      <div className="page-head">
        <div>
          <div className="crumbs">
            <Link to="/workflows">Workflows</Link> /
          </div>
          <h1>{wf.data?.name ?? "Workflow"}</h1>
          {wf.data && (
            <span className="muted small-text">
              {wf.data.published_version ? `Published: v${wf.data.published_version}` : "Not published yet"}
            </span>
          )}
        </div>
        <div className="actions">
          <Link className="button-link" to={`/workflows/${workflowId}`}>
            {canEdit ? "Open in editor" : "View canvas"}
          </Link>
        </div>
      </div>
      <nav className="tabs" aria-label="Workflow">
        {tabs.map((t) => (
          <NavLink key={t.to} to={t.to} className={({ isActive }) => (isActive ? "tab active" : "tab")}>
            {t.label}
          </NavLink>
        ))}
      </nav>
    </>
  );
}

/** A per-workflow screen: the header and tabs, then a heading (for screen readers) that names the tab. */
export function WorkflowScreen({
  workflowId,
  title,
  className = "screen",
  children,
}: {
  workflowId: string;
  title: string;
  className?: string;
  children: ReactNode;
}) {
  const headingId = `${title.toLowerCase()}-title`;
  return (
    <section className={className} aria-labelledby={headingId}>
      <WorkflowTabs workflowId={workflowId} />
      <h2 id={headingId} className="sr-only">
        {title}
      </h2>
      {children}
    </section>
  );
}
