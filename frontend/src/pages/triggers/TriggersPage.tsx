/**
 * Webhook triggers of a workflow: create one, see its URL, its secret once, its auth mode, a ready curl
 * example and a signing snippet; enable/disable, rotate the secret, and watch recent deliveries.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useParams } from "react-router-dom";
import { errorMessage } from "../../api/client";
import type { AuthMode, TriggerInfo } from "../../api/screens";
import { createTrigger, deleteTrigger, listDeliveries, listTriggers, rotateTriggerSecret, setTriggerEnabled } from "../../api/triggers";
import { getVersion } from "../../api/versions";
import { getWorkflow } from "../../api/workflows";
import { Empty, ListStates, Loading } from "../../components/States";
import { useCreateForm } from "../../components/useCreateForm";
import { useCan } from "../common/roles";
import { formatDuration, formatTime, relativeTime } from "../common/status";
import { WorkflowScreen } from "../common/WorkflowTabs";
import { McpToolPanel } from "./McpToolPanel";
import { SECRET_ENV, curlExample, nodeSigningSnippet, pythonSigningSnippet, sampleBody } from "./snippets";
import "../screens.css";
import { CopyField } from "../../components/CopyField";

const AUTH_LABEL: Record<AuthMode, string> = {
  signature: "Signature (Standard Webhooks, recommended)",
  bearer: "Bearer secret",
  none: "None — anyone with the URL can run it",
};

export default function TriggersPage() {
  const { workflowId } = useParams();
  const wf = workflowId!;
  const canEdit = useCan("editor");
  const qc = useQueryClient();
  const workflow = useQuery({ queryKey: ["workflow", wf], queryFn: () => getWorkflow(wf) });
  const published = workflow.data?.published_version ?? null;
  const version = useQuery({
    queryKey: ["graph-version", wf, published],
    queryFn: () => getVersion(wf, published!),
    enabled: !!published,
  });
  const startSchema = version.data?.graph?.nodes.find((n) => n.type === "start")?.config?.input_schema as Parameters<typeof sampleBody>[0];
  const body = sampleBody(startSchema);
  const triggers = useQuery({ queryKey: ["triggers", wf], queryFn: () => listTriggers(wf) });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["triggers", wf] });
  const [revealed, setRevealed] = useState<{ id: string; secret: string } | null>(null);
  // The modes stay as chosen for the next trigger; the name is cleared.
  const [authMode, setAuthMode] = useState<AuthMode>("signature");
  const [responseMode, setResponseMode] = useState<"async" | "sync">("async");
  const create = useCreateForm(
    { name: "" },
    (f) => createTrigger(wf, { name: f.name.trim() || "Webhook", auth_mode: authMode, response_mode: responseMode }),
    (t) => {
      if (t.secret) setRevealed({ id: t.id, secret: t.secret });
      refresh();
    },
  );
  const webhooks = (triggers.data ?? []).filter((t) => t.kind === "webhook");

  return (
    <WorkflowScreen workflowId={wf} title="Triggers">
      {workflow.data && !published && (
        <p className="notice-warn" role="note">
          Webhook triggers run the <strong>published</strong> version, and this workflow has none yet. Publish it in the{" "}
          <Link to={`/workflows/${wf}`}>editor</Link> first; until then calls answer with an error (the test URL runs the draft).
        </p>
      )}
      {workflow.data && <McpToolPanel workflow={workflow.data} canEdit={canEdit} />}
      {canEdit && (
        <form className="form inline-form trigger-create" onSubmit={create.submit} aria-label="Create a webhook trigger">
          <h2>New webhook trigger</h2>
          <label>
            Trigger name
            <input value={create.values.name} onChange={(e) => create.set("name", e.target.value)} placeholder="From our CRM" />
          </label>
          <label>
            Authentication
            <select value={authMode} onChange={(e) => setAuthMode(e.target.value as AuthMode)}>
              {(Object.keys(AUTH_LABEL) as AuthMode[]).map((m) => (
                <option key={m} value={m}>
                  {AUTH_LABEL[m]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Response
            <select value={responseMode} onChange={(e) => setResponseMode(e.target.value as "async" | "sync")}>
              <option value="async">202 at once (run in the background)</option>
              <option value="sync">Wait for the run's output</option>
            </select>
          </label>
          <button type="submit" className="primary" disabled={create.mutation.isPending}>
            Create webhook trigger
          </button>
          {create.mutation.isError && <p className="field-error">{errorMessage(create.mutation.error)}</p>}
        </form>
      )}
      <ListStates
        query={triggers}
        items={webhooks}
        loading="Loading triggers"
        empty={
          <Empty title="No webhook triggers">
            <p>A webhook trigger gives this workflow a URL that other systems can POST JSON to; each call starts a run.</p>
          </Empty>
        }
      >
        {(items) =>
          items.map((t) => (
            <TriggerCard
              key={t.id}
              workflowId={wf}
              trigger={t}
              body={body}
              secret={revealed?.id === t.id ? revealed.secret : null}
              onSecret={(secret) => setRevealed({ id: t.id, secret })}
              onHideSecret={() => setRevealed(null)}
              onChanged={refresh}
              canEdit={canEdit}
            />
          ))
        }
      </ListStates>
    </WorkflowScreen>
  );
}

function TriggerCard({
  workflowId,
  trigger: t,
  body,
  secret,
  onSecret,
  onHideSecret,
  onChanged,
  canEdit,
}: {
  workflowId: string;
  trigger: TriggerInfo;
  body: Record<string, unknown>;
  secret: string | null;
  onSecret: (s: string) => void;
  onHideSecret: () => void;
  onChanged: () => void;
  canEdit: boolean;
}) {
  const [tab, setTab] = useState<"curl" | "python" | "node">("curl");
  const toggle = useMutation({ mutationFn: () => setTriggerEnabled(workflowId, t.id, !t.enabled), onSettled: onChanged });
  const rotate = useMutation({
    mutationFn: () => rotateTriggerSecret(workflowId, t.id),
    onSuccess: (r) => {
      if (r.secret) onSecret(r.secret);
      onChanged();
    },
  });
  const remove = useMutation({ mutationFn: () => deleteTrigger(workflowId, t.id), onSettled: onChanged });
  const deliveries = useQuery({ queryKey: ["deliveries", t.id], queryFn: () => listDeliveries(workflowId, t.id), refetchInterval: 3000 });
  const url = t.url ?? "";
  const snippet =
    tab === "curl"
      ? curlExample({ url, authMode: t.auth_mode, secret, body })
      : tab === "python"
        ? pythonSigningSnippet(url)
        : nodeSigningSnippet(url);
  const error = toggle.error ?? rotate.error ?? remove.error;

  return (
    <article className="trigger-card" aria-label={`Trigger ${t.name || "Webhook"}`}>
      <div className="trigger-head">
        <h2>{t.name || "Webhook"}</h2>
        <span className={`chip ${t.enabled ? "chip-succeeded" : "chip-disabled"}`}>{t.enabled ? "enabled" : "disabled"}</span>
        {canEdit && (
          <div className="actions">
            <button type="button" className="small" onClick={() => toggle.mutate()} disabled={toggle.isPending}>
              {t.enabled ? "Disable" : "Enable"}
            </button>
            {t.auth_mode !== "none" && (
              <button type="button" className="small" onClick={() => rotate.mutate()} disabled={rotate.isPending}>
                Rotate secret
              </button>
            )}
            <button
              type="button"
              className="small danger"
              onClick={() => window.confirm(`Delete the trigger "${t.name || "Webhook"}"? Calls to its URL will answer 404.`) && remove.mutate()}
            >
              Delete
            </button>
          </div>
        )}
      </div>
      {error && <p className="field-error">{errorMessage(error)}</p>}
      <div className="kv">
        <span>URL</span>
        <CopyField value={url} label="Webhook URL" />
        <span>Authentication</span>
        <span>{AUTH_LABEL[t.auth_mode]}</span>
        <span>Response</span>
        <span>{t.response_mode === "sync" ? `waits up to ${t.sync_timeout_s} s for the output` : "202 with the run id"}</span>
        {t.previous_secret_expires_at && (
          <>
            <span>Previous secret</span>
            <span>still accepted until {formatTime(t.previous_secret_expires_at)}</span>
          </>
        )}
      </div>
      {secret && (
        <div className="secret-once" role="status" aria-label="New secret">
          <strong>Copy the secret now — it will not be shown again.</strong>
          <CopyField value={secret} label="Trigger secret" />
          <span className="small-text muted">
            Store it where the caller can read it, e.g. as <code>{SECRET_ENV}</code>. The examples below include it while it is on screen.
          </span>
          <div>
            <button type="button" className="small" onClick={onHideSecret}>
              I have stored it
            </button>
          </div>
        </div>
      )}
      <div>
        <div className="row space">
          <h3>Call it</h3>
          <div className="seg" role="tablist" aria-label="Example language">
            {(["curl", "python", "node"] as const).map((k) => (
              <button key={k} type="button" role="tab" aria-selected={tab === k} className={tab === k ? "active" : ""} onClick={() => setTab(k)}>
                {k === "curl" ? "curl" : k === "python" ? "Python (signing)" : "Node (signing)"}
              </button>
            ))}
          </div>
        </div>
        <pre className="snippet" aria-label={tab === "curl" ? "curl example" : "Signing snippet"}>
          {snippet}
        </pre>
        {tab !== "curl" && t.auth_mode !== "signature" && (
          <p className="muted small-text">These snippets sign the request; with {t.auth_mode} authentication a plain request as in the curl example is enough.</p>
        )}
      </div>
      <div>
        <h3>Recent deliveries</h3>
        {deliveries.isLoading ? (
          <Loading label="Loading deliveries" />
        ) : !deliveries.data?.length ? (
          <p className="muted">No calls yet. Run the example above and the delivery shows up here.</p>
        ) : (
          <table className="table" aria-label="Deliveries">
            <thead>
              <tr>
                <th>When</th>
                <th>Outcome</th>
                <th>HTTP</th>
                <th>Detail</th>
                <th>Run</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.data.map((d) => (
                <tr key={d.id}>
                  <td title={formatTime(d.created_at)}>{relativeTime(d.created_at)}</td>
                  <td>
                    <span className={`chip chip-${d.outcome}`}>{d.outcome}</span>
                    {d.count > 1 && (
                      <span className="muted small-text" title={d.last_at ? `last at ${formatTime(d.last_at)}` : undefined}>
                        {" "}
                        ×{d.count}
                      </span>
                    )}
                    {d.test && <span className="muted small-text"> test</span>}
                  </td>
                  <td>{d.status_code ?? "—"}</td>
                  <td className="small-text">
                    {d.reason && <code>{d.reason}</code>} {d.message}
                    {d.duration_ms != null && <span className="muted"> · {formatDuration(d.duration_ms)}</span>}
                  </td>
                  <td>{d.run_id ? <Link to={`/runs/${d.run_id}`}>{d.run_id.slice(0, 8)}</Link> : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </article>
  );
}
