/** Workflow list: open one, create a blank one, or start from a template. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { errorMessage } from "../api/client";
import type { Template } from "../api/types";
import { createWorkflow, listTemplates, listWorkflows } from "../api/workflows";
import { Dialog } from "../components/Dialog";
import { Empty, ErrorState, Loading } from "../components/States";
import { GRAPH_FORMAT } from "../graph/format";
import { defaultConfig } from "../nodes/registry";
import { useWorkspace } from "../shell/workspace";
import { useCan } from "./common/roles";
import { GraphThumb } from "./templates/GraphThumb";

/** A blank workflow is an empty canvas; the editor shows how to begin. */
const blankGraph = () => ({
  format: GRAPH_FORMAT,
  nodes: [],
  edges: [],
});

export default function WorkflowsPage() {
  const { current } = useWorkspace();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const workflows = useQuery({ queryKey: ["workflows", current?.slug], queryFn: listWorkflows, enabled: !!current });
  const canEdit = useCan("editor");
  const [createOpen, setCreateOpen] = useState(false);
  const [templatesOpen, setTemplatesOpen] = useState(false);
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: createWorkflow,
    onSuccess: (wf) => {
      void queryClient.invalidateQueries({ queryKey: ["workflows"] });
      navigate(`/workflows/${wf.id}`);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate({ name: name.trim() || "Untitled workflow", graph: blankGraph() });
  };

  return (
    <section aria-labelledby="wf-title">
      <div className="page-head">
        <h1 id="wf-title">Workflows</h1>
        {canEdit && (
          <div className="actions">
            <button type="button" onClick={() => setTemplatesOpen(true)}>
              From template…
            </button>
            <button type="button" className="primary" onClick={() => setCreateOpen(true)}>
              + New workflow
            </button>
          </div>
        )}
      </div>
      {!current ? (
        <Empty title="No workspace">You are not a member of any workspace yet. Ask an owner for an invitation.</Empty>
      ) : workflows.isLoading ? (
        <Loading label="Loading workflows" />
      ) : workflows.isError ? (
        <ErrorState error={workflows.error} retry={() => void workflows.refetch()} />
      ) : !workflows.data?.length ? (
        <Empty title="No workflows yet">
          <p>A workflow is a graph of steps — Start, Agent, If/else, End — that you build on a canvas, try, and publish.</p>
          <p hidden={!canEdit}>
            <button type="button" className="primary" onClick={() => setCreateOpen(true)}>
              Create your first workflow
            </button>{" "}
            or{" "}
            <button type="button" onClick={() => setTemplatesOpen(true)}>
              start from a template
            </button>
          </p>
        </Empty>
      ) : (
        <table className="table" aria-label="Workflows">
          <thead>
            <tr>
              <th>Name</th>
              <th>Published</th>
              <th>Updated</th>
              <th>History</th>
            </tr>
          </thead>
          <tbody>
            {workflows.data.map((wf) => (
              <tr key={wf.id}>
                <td>
                  <Link to={`/workflows/${wf.id}`}>{wf.name}</Link>
                </td>
                <td>{wf.published_version ? `v${wf.published_version}` : <span className="muted">draft only</span>}</td>
                <td className="muted">{wf.updated_at ? new Date(wf.updated_at).toLocaleString() : "—"}</td>
                <td className="wf-links">
                  <Link to={`/workflows/${wf.id}/runs`}>Runs</Link> ·{" "}
                  <Link to={`/workflows/${wf.id}/versions`}>Versions</Link> ·{" "}
                  <Link to={`/workflows/${wf.id}/triggers`}>Triggers</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <Dialog open={createOpen} title="New workflow" onClose={() => setCreateOpen(false)}>
        <form onSubmit={submit} className="form">
          <label>
            Name
            <input autoFocus value={name} onChange={(e) => setName(e.target.value)} placeholder="Support triage" />
          </label>
          {create.isError && <p className="field-error">{errorMessage(create.error)}</p>}
          <div className="actions">
            <button type="button" onClick={() => setCreateOpen(false)}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={create.isPending}>
              {create.isPending ? "Creating…" : "Create"}
            </button>
          </div>
        </form>
      </Dialog>

      <Dialog open={templatesOpen} title="Start from a template" onClose={() => setTemplatesOpen(false)} wide>
        <TemplatePicker
          onPick={(t) =>
            create.mutate(t.id === "starter" && t.graph ? { name: t.name, graph: t.graph } : { name: t.name, template: t.slug ?? t.id })
          }
          busy={create.isPending}
          error={create.error}
        />
      </Dialog>
    </section>
  );
}

function TemplatePicker({ onPick, busy, error }: { onPick: (t: Template) => void; busy: boolean; error: unknown }) {
  const templates = useQuery({ queryKey: ["templates"], queryFn: listTemplates });
  if (templates.isLoading) return <Loading label="Loading templates" />;
  const starter: Template = {
    id: "starter",
    slug: "starter",
    name: "Starter: Start → Agent → End",
    description: "The smallest useful workflow.",
    uses_llm: true,
    graph: {
      format: GRAPH_FORMAT,
      nodes: [
        { id: "start", type: "start", name: "Start", position: { x: 0, y: 0 }, config: defaultConfig("start") },
        {
          id: "agent",
          type: "agent",
          name: "Agent",
          position: { x: 300, y: 0 },
          config: { ...defaultConfig("agent"), instructions: "Answer: {{ workflow.input.message }}" },
        },
        { id: "end", type: "end", name: "End", position: { x: 600, y: 0 }, config: { ...defaultConfig("end"), output: { answer: "nodes.agent.output" } } },
      ],
      edges: [
        { id: "e1", source: "start", target: "agent" },
        { id: "e2", source: "agent", target: "end" },
      ],
    },
  };
  const all = [...(templates.data ?? []), ...(templates.data?.length ? [] : [starter])];
  const listError = templates.isError ? <ErrorState error={templates.error} retry={() => void templates.refetch()} /> : null;
  return (
    <>
      {listError}
      {!!error && <p className="field-error">{errorMessage(error)}</p>}
      <ul className="template-grid">
        {all.map((t) => (
          <li key={t.id}>
            <button type="button" className="template-card" disabled={busy} onClick={() => onPick(t)}>
              {t.graph && <GraphThumb graph={t.graph} />}
              <strong>{t.name}</strong>
              <span className="muted">{t.description}</span>
            </button>
          </li>
        ))}
      </ul>
    </>
  );
}
