/**
 * Version history of a workflow: every published version (number, note, author, time, which one is live),
 * any version opened read-only, a visual diff of two versions (or a version and the draft), restore into
 * the draft and making an earlier version the published one.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";
import { errorMessage } from "../../api/client";
import type { VersionInfo } from "../../api/screens";
import { diffVersions, getVersion, listVersions, makePublished, restoreVersion } from "../../api/versions";
import { getDraft } from "../../api/workflows";
import { Dialog } from "../../components/Dialog";
import { Empty, ErrorState, Loading } from "../../components/States";
import type { Graph } from "../../graph/format";
import { GraphView } from "../common/GraphView";
import { useCan } from "../common/roles";
import { formatTime } from "../common/status";
import { WorkflowScreen } from "../common/WorkflowTabs";
import { diffCanvas, diffSummary, fieldLabel, showValue, type Mark } from "./diff";
import "../screens.css";

type Ref = number | "draft";
const parseRef = (s: string | null): Ref | null => (s === "draft" ? "draft" : s && /^\d+$/.test(s) ? Number(s) : null);
const refLabel = (r: Ref) => (r === "draft" ? "Draft" : `v${r}`);

export default function VersionsPage() {
  const { workflowId } = useParams();
  const wf = workflowId!;
  const [params, setParams] = useSearchParams();
  const canEdit = useCan("editor");
  const qc = useQueryClient();
  const versions = useQuery({ queryKey: ["versions", wf], queryFn: () => listVersions(wf) });
  const view = parseRef(params.get("view"));
  const from = parseRef(params.get("from"));
  const to = parseRef(params.get("to"));
  const [confirm, setConfirm] = useState<{ kind: "restore" | "publish"; version: VersionInfo } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const show = (next: Record<string, string>) => setParams(new URLSearchParams(next), { replace: true });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["versions", wf] });
    void qc.invalidateQueries({ queryKey: ["workflow", wf] });
    void qc.invalidateQueries({ queryKey: ["draft", wf] });
    void qc.invalidateQueries({ queryKey: ["graph-ref", wf] });
    void qc.invalidateQueries({ queryKey: ["diff", wf] });
  };
  const act = useMutation({
    mutationFn: async (c: { kind: "restore" | "publish"; version: VersionInfo }) => {
      if (c.kind === "restore") await restoreVersion(wf, c.version.number);
      else await makePublished(wf, c.version.number);
      return c;
    },
    onSuccess: (c) => {
      setConfirm(null);
      setNotice(
        c.kind === "restore"
          ? `Version ${c.version.number} was copied into the draft.`
          : `Version ${c.version.number} is now the published version; triggers and the API run it.`,
      );
      refresh();
    },
  });

  const list = versions.data ?? [];
  const latest = list[0]?.number;
  const defaultFrom = list[1]?.number ?? latest;

  return (
    <WorkflowScreen workflowId={wf} title="Versions">
      {notice && (
        <p className="notice" role="status">
          {notice} {notice.includes("draft") && <Link to={`/workflows/${wf}`}>Open the draft in the editor</Link>}
        </p>
      )}
      {versions.isLoading ? (
        <Loading label="Loading versions" />
      ) : versions.isError ? (
        <ErrorState error={versions.error} retry={() => void versions.refetch()} />
      ) : !list.length ? (
        <Empty title="No versions yet">
          <p>Publishing the draft in the editor creates version 1. Versions never change after publishing.</p>
        </Empty>
      ) : (
        <>
          <form className="compare-bar" aria-label="Compare versions" onSubmit={(e) => e.preventDefault()}>
            <label>
              Compare
              <RefSelect label="From version" value={from ?? defaultFrom ?? "draft"} versions={list} onChange={(v) => show({ from: String(v), to: String(to ?? latest) })} />
            </label>
            <label>
              with
              <RefSelect label="To version" value={to ?? latest ?? "draft"} versions={list} onChange={(v) => show({ from: String(from ?? defaultFrom), to: String(v) })} />
            </label>
            <button type="button" className="primary" onClick={() => show({ from: String(from ?? defaultFrom), to: String(to ?? latest) })}>
              Compare
            </button>
            <span className="legend" aria-hidden>
              <span><i className="l-added" />added</span>
              <span><i className="l-removed" />removed</span>
              <span><i className="l-changed" />changed</span>
            </span>
          </form>
          <div className="versions-layout">
            <ul className="version-list" aria-label="Versions">
              {list.map((v) => (
                <li key={v.number} className={`version-item${view === v.number ? " current" : ""}`} aria-label={`Version ${v.number}`}>
                  <div className="row space">
                    <strong>
                      v{v.number} {v.published && <span className="chip chip-published">published</span>}
                    </strong>
                    <span className="muted small-text" title={formatTime(v.created_at)}>
                      {new Date(v.created_at).toLocaleString()}
                    </span>
                  </div>
                  <span className="version-note">{v.note || <span className="muted">No note</span>}</span>
                  <span className="muted small-text">by {v.created_by ?? "unknown"}</span>
                  <div className="actions">
                    <button type="button" className="small" onClick={() => show({ view: String(v.number) })}>
                      View
                    </button>
                    <button type="button" className="small" onClick={() => show({ from: String(v.number), to: "draft" })} title="Compare this version with the current draft">
                      Diff with draft
                    </button>
                    {canEdit && (
                      <button type="button" className="small" onClick={() => setConfirm({ kind: "restore", version: v })}>
                        Restore into draft
                      </button>
                    )}
                    {canEdit && !v.published && (
                      <button type="button" className="small" onClick={() => setConfirm({ kind: "publish", version: v })}>
                        Make published
                      </button>
                    )}
                  </div>
                </li>
              ))}
            </ul>
            <div className="version-pane">
              {from != null && to != null ? (
                <DiffPane workflowId={wf} from={from} to={to} />
              ) : (
                <VersionPane workflowId={wf} number={typeof view === "number" ? view : latest!} />
              )}
            </div>
          </div>
        </>
      )}
      <Dialog
        open={!!confirm}
        title={confirm?.kind === "restore" ? `Restore version ${confirm.version.number}?` : `Publish version ${confirm?.version.number}?`}
        onClose={() => setConfirm(null)}
      >
        {confirm && (
          <div className="form">
            <p>
              {confirm.kind === "restore"
                ? "The draft is replaced by a copy of this version. The published version does not change until you publish again."
                : "Webhooks, schedules and API calls that run the published version will run this one from now on."}
            </p>
            {act.isError && <p className="field-error">{errorMessage(act.error)}</p>}
            <div className="actions">
              <button type="button" onClick={() => setConfirm(null)}>
                Cancel
              </button>
              <button type="button" className="primary" onClick={() => act.mutate(confirm)} disabled={act.isPending}>
                {confirm.kind === "restore" ? "Restore" : "Make published"}
              </button>
            </div>
          </div>
        )}
      </Dialog>
    </WorkflowScreen>
  );
}

function RefSelect({ label, value, versions, onChange }: { label: string; value: Ref; versions: VersionInfo[]; onChange: (r: Ref) => void }) {
  return (
    <select aria-label={label} value={String(value)} onChange={(e) => onChange(parseRef(e.target.value)!)}>
      {versions.map((v) => (
        <option key={v.number} value={v.number}>
          v{v.number}
          {v.published ? " (published)" : ""}
        </option>
      ))}
      <option value="draft">Draft</option>
    </select>
  );
}

async function graphOf(workflowId: string, ref: Ref): Promise<Graph> {
  if (ref === "draft") return (await getDraft(workflowId)).graph;
  return (await getVersion(workflowId, ref)).graph!;
}

function VersionPane({ workflowId, number }: { workflowId: string; number: number }) {
  const v = useQuery({ queryKey: ["graph-ref", workflowId, number], queryFn: () => graphOf(workflowId, number) });
  return (
    <div className="screen">
      <h2>Version {number} (read-only)</h2>
      {v.isLoading ? <Loading label="Loading the version" /> : v.isError ? <ErrorState error={v.error} /> : <GraphView graph={v.data!} label={`Version ${number}`} height={460} />}
    </div>
  );
}

function DiffPane({ workflowId, from, to }: { workflowId: string; from: Ref; to: Ref }) {
  const q = useQuery({
    queryKey: ["diff", workflowId, from, to],
    queryFn: async () => {
      const [a, b, diff] = await Promise.all([graphOf(workflowId, from), graphOf(workflowId, to), diffVersions(workflowId, from, to)]);
      return { a, b, diff };
    },
    staleTime: 0,
  });
  if (q.isLoading) return <Loading label="Comparing" />;
  if (q.isError || !q.data) return <ErrorState error={q.error} />;
  const { a, b, diff } = q.data;
  const canvas = diffCanvas(a, b, diff);
  const nodeClass = Object.fromEntries(Object.entries(canvas.nodeMarks).map(([k, m]) => [k, `diff-${m}`]));
  const edgeClass = Object.fromEntries(Object.entries(canvas.edgeMarks).map(([k, m]) => [k, `diff-${m}`]));
  const name = (id: string) => a.nodes.find((n) => n.id === id)?.name ?? b.nodes.find((n) => n.id === id)?.name ?? id;
  const item = (mark: Mark, id: string) => (
    <li key={`${mark}-${id}`}>
      <span className={`mark mark-${mark}`}>{mark}</span>
      <strong>{name(id)}</strong> <code className="muted">{id}</code>
    </li>
  );
  return (
    <div className="screen" aria-label="Version diff">
      <h2>
        {refLabel(from)} → {refLabel(to)}: <span className="muted">{diffSummary(diff)}</span>
      </h2>
      <GraphView graph={canvas.graph} nodeClass={nodeClass} edgeClass={edgeClass} label="Diff canvas" height={400} />
      <div className="changes" aria-label="Changes">
        {diff.nodes.added.length + diff.nodes.removed.length + diff.nodes.changed.length === 0 && !diff.edges.added.length && !diff.edges.removed.length ? (
          <p className="muted">The two versions are the same (positions on the canvas are not compared).</p>
        ) : (
          <>
            <ul>
              {diff.nodes.added.map((id) => item("added", id))}
              {diff.nodes.removed.map((id) => item("removed", id))}
              {diff.nodes.changed.map((c) => (
                <li key={`changed-${c.id}`}>
                  <span className="mark mark-changed">changed</span>
                  <strong>{name(c.id)}</strong> <code className="muted">{c.id}</code>
                  <ul>
                    {c.changes.map((f) => (
                      <li key={f.field}>
                        {fieldLabel(f.field)}: <span className="change-from">{showValue(f.from)}</span> → <span className="change-to">{showValue(f.to)}</span>
                      </li>
                    ))}
                  </ul>
                </li>
              ))}
            </ul>
            {(diff.edges.added.length > 0 || diff.edges.removed.length > 0) && (
              <>
                <h3>Connections</h3>
                <ul>
                  {diff.edges.added.map((e) => (
                    <li key={`+${e.source}${e.source_port}${e.target}`}>
                      <span className="mark mark-added">added</span>
                      {name(e.source)}
                      {e.source_port !== "out" ? ` (${e.source_port})` : ""} → {name(e.target)}
                    </li>
                  ))}
                  {diff.edges.removed.map((e) => (
                    <li key={`-${e.source}${e.source_port}${e.target}`}>
                      <span className="mark mark-removed">removed</span>
                      {name(e.source)}
                      {e.source_port !== "out" ? ` (${e.source_port})` : ""} → {name(e.target)}
                    </li>
                  ))}
                </ul>
              </>
            )}
          </>
        )}
      </div>
    </div>
  );
}
