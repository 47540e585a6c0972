/**
 * Fine-tuning from the Evals tab: export one agent node's steps (supervised, DPO or reinforcement; the
 * server validates and masks them), launch a job on a workspace provider, follow it (the worker polls the
 * provider), and try the fine-tuned model in a copy of the draft.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { errorMessage } from "../../api/client";
import { cancelJob, createExport, launchJob, listExports, listJobs, tryModel, type FinetuneExportInfo } from "../../api/evals";
import { listProviders } from "../../api/team";
import { getDraft } from "../../api/workflows";
import { formatCost } from "../common/status";

const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

export function FinetunePanel({ wf, canEdit }: { wf: string; canEdit: boolean }) {
  const qc = useQueryClient();
  const draft = useQuery({ queryKey: ["draft", wf], queryFn: () => getDraft(wf) });
  const agents = (draft.data?.graph.nodes ?? []).filter((n) => n.type === "agent");
  const exports = useQuery({ queryKey: ["exports", wf], queryFn: () => listExports(wf) });
  const providers = useQuery({ queryKey: ["providers"], queryFn: listProviders, enabled: canEdit });
  const jobs = useQuery({
    queryKey: ["jobs"],
    queryFn: listJobs,
    refetchInterval: (q) => (q.state.data?.some((j) => !TERMINAL.has(j.status)) ? 2000 : false),
  });
  const [node, setNode] = useState("");
  const [method, setMethod] = useState<FinetuneExportInfo["method"]>("supervised");
  const [feedback, setFeedback] = useState("");
  const [provider, setProvider] = useState("");
  const [baseModel, setBaseModel] = useState("gpt-4.1-mini");
  const [made, setMade] = useState<FinetuneExportInfo | null>(null);
  const [tried, setTried] = useState<{ id: string; name: string } | null>(null);
  const nodeId = node || agents[0]?.id || "";
  const providerId = Number(provider || providers.data?.[0]?.id || 0);
  const exportOne = useMutation({
    mutationFn: () =>
      createExport(wf, {
        node_id: nodeId,
        method,
        filters: feedback ? { feedback } : {},
        base_model: baseModel,
        ...(method === "reinforcement"
          ? { grader: { type: "text_similarity", name: "close", evaluation_metric: "fuzzy_match", pass_threshold: 0.8 } }
          : {}),
      }),
    onSuccess: (e) => {
      setMade(e);
      void qc.invalidateQueries({ queryKey: ["exports", wf] });
    },
  });
  const launch = useMutation({
    mutationFn: (exportId: string) => launchJob({ export: exportId, provider: providerId, base_model: baseModel }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["jobs"] }),
  });
  const cancel = useMutation({ mutationFn: cancelJob, onSuccess: () => void qc.invalidateQueries({ queryKey: ["jobs"] }) });
  const tryIt = useMutation({
    mutationFn: (job: { model: string; provider: number }) => tryModel(wf, { node_id: nodeId, model: job.model, provider: job.provider }),
    onSuccess: (t) => {
      setTried(t);
      void qc.invalidateQueries({ queryKey: ["draft", wf] });
    },
  });
  const exportIds = new Set((exports.data ?? []).map((e) => e.id));
  const ours = (jobs.data ?? []).filter((j) => exportIds.has(j.export));
  const failure = exportOne.error ?? launch.error ?? cancel.error ?? tryIt.error;
  return (
    <div className="finetune" aria-label="Fine-tuning">
      <h3>Fine-tuning</h3>
      {canEdit && (
        <div className="inline-form">
          <select aria-label="Agent node" value={nodeId} onChange={(e) => setNode(e.target.value)}>
            {agents.map((n) => (
              <option key={n.id} value={n.id}>
                {n.name || n.id}
              </option>
            ))}
          </select>
          <select aria-label="Export format" value={method} onChange={(e) => setMethod(e.target.value as FinetuneExportInfo["method"])}>
            <option value="supervised">Supervised (SFT)</option>
            <option value="dpo">Preference (DPO)</option>
            <option value="reinforcement">Reinforcement (RFT)</option>
          </select>
          <select aria-label="Feedback filter" value={feedback} onChange={(e) => setFeedback(e.target.value)}>
            <option value="">Any feedback</option>
            <option value="up">Only 👍 good</option>
            <option value="down">Only 👎 bad</option>
          </select>
          <input aria-label="Base model" value={baseModel} onChange={(e) => setBaseModel(e.target.value)} />
          <button type="button" onClick={() => exportOne.mutate()} disabled={!nodeId || exportOne.isPending}>
            Export JSONL
          </button>
        </div>
      )}
      {made && (
        <p role="status" aria-label="Export result">
          {made.examples} examples, {made.tokens.toLocaleString()} tokens, estimated training cost {formatCost(made.estimated_cost)}.{" "}
          {made.warnings.join(" ")} <a href={made.download_url}>Download</a>
        </p>
      )}
      {canEdit && made && (
        <div className="inline-form">
          <select aria-label="Provider" value={String(providerId)} onChange={(e) => setProvider(e.target.value)}>
            {(providers.data ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
          <button type="button" className="primary" onClick={() => launch.mutate(made.id)} disabled={!providerId || launch.isPending}>
            Launch fine-tune
          </button>
        </div>
      )}
      {failure && <p className="field-error" role="alert">{errorMessage(failure)}</p>}
      {ours.length > 0 && (
        <table className="runs-table" aria-label="Fine-tuning jobs">
          <thead>
            <tr><th>Base model</th><th>Provider</th><th>Status</th><th>Fine-tuned model</th><th /></tr>
          </thead>
          <tbody>
            {ours.map((j) => (
              <tr key={j.id}>
                <td>{j.base_model}</td>
                <td>{j.provider_name}</td>
                <td title={j.events.at(-1)?.message ?? ""}>
                  <span className={`chip chip-${j.status}`}>{j.status}</span>
                  {j.error && <span className="field-error"> {j.error.message}</span>}
                </td>
                <td><code>{j.fine_tuned_model ?? "—"}</code></td>
                <td>
                  {canEdit && !TERMINAL.has(j.status) && (
                    <button type="button" className="link-btn" onClick={() => cancel.mutate(j.id)}>Cancel</button>
                  )}
                  {canEdit && j.fine_tuned_model && (
                    <button type="button" className="link-btn" onClick={() => tryIt.mutate({ model: j.fine_tuned_model!, provider: j.provider })}>
                      Try it in a draft
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {tried && (
        <p role="status">
          The draft of <Link to={`/workflows/${tried.id}`}>{tried.name}</Link> now uses the fine-tuned model (the published version keeps the
          old one): run an eval of the draft and compare it with the published version.
        </p>
      )}
    </div>
  );
}
