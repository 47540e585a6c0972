/**
 * /workflows/:id — editors and above get the canvas editor; viewers get the same graph read-only, with
 * links to its runs, versions and triggers, and no control that would change anything.
 */
import { useQuery } from "@tanstack/react-query";
import { lazy, Suspense, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { getDraft, getWorkflow } from "../../api/workflows";
import { NodeTypesGate } from "../../nodes/NodeTypesGate";
import { ErrorState, Loading } from "../../components/States";
import { WorkspaceSwitcher } from "../../shell/WorkspaceSwitcher";
import { useWorkspace } from "../../shell/workspace";
import { GraphView } from "../common/GraphView";
import { JsonView } from "../common/JsonView";
import { roleAtLeast } from "../common/roles";
import "../screens.css";

const EditorPage = lazy(() => import("../EditorPage"));

export default function WorkflowRoute() {
  const { current, loading } = useWorkspace();
  if (loading) return <Loading label="Opening the workflow" />;
  if (current && !roleAtLeast(current.role, "editor")) {
    return (
      <NodeTypesGate>
        <ReadOnlyWorkflow />
      </NodeTypesGate>
    );
  }
  return (
    <NodeTypesGate>
      <Suspense fallback={<Loading label="Loading the editor" />}>
        <EditorPage />
      </Suspense>
    </NodeTypesGate>
  );
}

function ReadOnlyWorkflow() {
  const { workflowId } = useParams();
  const wf = workflowId!;
  const workflow = useQuery({ queryKey: ["workflow", wf], queryFn: () => getWorkflow(wf) });
  const draft = useQuery({ queryKey: ["draft", wf], queryFn: () => getDraft(wf) });
  const [selected, setSelected] = useState<string | null>(null);
  const node = draft.data?.graph.nodes.find((n) => n.id === selected);
  return (
    <div className="editor readonly-workflow">
      <header className="editor-bar">
        <Link to="/workflows" className="back" aria-label="Back to workflows">
          ←
        </Link>
        <h1 className="wf-title">{workflow.data?.name ?? "Workflow"}</h1>
        <span className="chip">read-only</span>
        <nav className="toolbar" aria-label="Workflow">
          <Link className="button-link" to={`/workflows/${wf}/runs`}>
            Runs
          </Link>
          <Link className="button-link" to={`/workflows/${wf}/versions`}>
            Versions
          </Link>
          <Link className="button-link" to={`/workflows/${wf}/triggers`}>
            Triggers
          </Link>
        </nav>
        <div className="editor-bar-right">
          <WorkspaceSwitcher />
        </div>
      </header>
      <p className="readonly-banner" role="note">
        You are a <strong>viewer</strong> in this workspace: you can look at this workflow, its versions and its runs, but not change or run it.
      </p>
      {draft.isLoading ? (
        <Loading label="Loading the graph" />
      ) : draft.isError ? (
        <ErrorState error={draft.error} />
      ) : (
        <div className="editor-body">
          <div className="canvas">
            <GraphView graph={draft.data!.graph} selectedId={selected} onSelect={setSelected} height="100%" label="Workflow canvas (read-only)" />
          </div>
          <aside className="side" aria-label="Node details">
            <div className="side-body">
              {node ? (
                <>
                  <h2>{node.name}</h2>
                  <p className="muted">
                    {node.type} · <code>{node.id}</code>
                  </p>
                  <JsonView label="Configuration" value={node.config} />
                </>
              ) : (
                <p className="muted">Select a node to see its configuration.</p>
              )}
            </div>
          </aside>
        </div>
      )}
    </div>
  );
}
