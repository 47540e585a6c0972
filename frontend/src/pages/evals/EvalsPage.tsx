/**
 * The Evals tab of a workflow: datasets (with their graders and items, import/export), eval runs of the
 * draft or a version with their summary, a side-by-side comparison of two evals, and the publish gate.
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { errorMessage } from "../../api/client";
import {
  addItems,
  addRunsMatching,
  cancelEval,
  compareEvals,
  createDataset,
  deleteItem,
  exportUrl,
  getEval,
  getGate,
  importItems,
  listDatasets,
  listEvals,
  listItems,
  pct,
  setGate,
  startEval,
  updateDataset,
  type EvalComparison,
  type EvalInfo,
  type Grader,
} from "../../api/evals";
import { listVersions } from "../../api/versions";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useCan } from "../common/roles";
import { formatCost, formatTime } from "../common/status";
import { WorkflowScreen } from "../common/WorkflowTabs";
import "../screens.css";
import "./evals.css";
import { FinetunePanel } from "./FinetunePanel";
import { GradersEditor } from "./GradersEditor";

const DEFAULT_GRADERS: Grader[] = [
  { type: "string_check", name: "exact", input: "{{ output }}", reference: "{{ expected }}", operation: "eq" },
];

const short = (v: unknown) => {
  const text = typeof v === "string" ? v : JSON.stringify(v);
  return text && text.length > 80 ? `${text.slice(0, 77)}…` : (text ?? "—");
};

export default function EvalsPage() {
  const { workflowId } = useParams();
  const wf = workflowId!;
  const canEdit = useCan("editor");
  const qc = useQueryClient();
  const datasets = useQuery({ queryKey: ["datasets", wf], queryFn: () => listDatasets(wf) });
  const [selected, setSelected] = useState<string | null>(null);
  const current = datasets.data?.find((d) => d.id === selected) ?? datasets.data?.[0] ?? null;
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["datasets", wf] });
    void qc.invalidateQueries({ queryKey: ["items", wf] });
    void qc.invalidateQueries({ queryKey: ["evals", wf] });
  };

  return (
    <WorkflowScreen workflowId={wf} title="Evals" className="screen evals">
      <div className="evals-grid">
        <div>
          <h3>Datasets</h3>
          {datasets.isLoading ? (
            <Loading label="Loading datasets" />
          ) : datasets.isError ? (
            <ErrorState error={datasets.error} />
          ) : datasets.data!.length === 0 ? (
            <Empty title="No dataset yet">Create one, then add runs from the run detail or import a CSV/JSONL file.</Empty>
          ) : (
            <ul className="dataset-list" aria-label="Datasets">
              {datasets.data!.map((d) => (
                <li key={d.id}>
                  <button type="button" className={current?.id === d.id ? "link-btn strong" : "link-btn"} onClick={() => setSelected(d.id)}>
                    {d.name}
                  </button>{" "}
                  <span className="muted small-text">{d.items} items</span>
                </li>
              ))}
            </ul>
          )}
          {canEdit && <NewDataset wf={wf} onDone={(id) => { setSelected(id); refresh(); }} />}
          <GateBox wf={wf} canEdit={canEdit} />
        </div>
        <div>
          {current ? <DatasetPanel wf={wf} datasetId={current.id} canEdit={canEdit} onChange={refresh} /> : null}
          <EvalRuns wf={wf} canEdit={canEdit} datasetId={current?.id ?? null} />
          <FinetunePanel wf={wf} canEdit={canEdit} />
        </div>
      </div>
    </WorkflowScreen>
  );
}

function NewDataset({ wf, onDone }: { wf: string; onDone: (id: string) => void }) {
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => createDataset(wf, { name: name.trim(), graders: DEFAULT_GRADERS }),
    onSuccess: (d) => {
      setName("");
      onDone(d.id);
    },
  });
  return (
    <form
      className="inline-form"
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        create.mutate();
      }}
    >
      <input aria-label="New dataset name" placeholder="New dataset name" value={name} onChange={(e) => setName(e.target.value)} />
      <button type="submit" disabled={!name.trim() || create.isPending}>
        Create dataset
      </button>
      {create.isError && <p className="field-error" role="alert">{errorMessage(create.error)}</p>}
    </form>
  );
}

function DatasetPanel({ wf, datasetId, canEdit, onChange }: { wf: string; datasetId: string; canEdit: boolean; onChange: () => void }) {
  const datasets = useQuery({ queryKey: ["datasets", wf], queryFn: () => listDatasets(wf) });
  const dataset = datasets.data?.find((d) => d.id === datasetId);
  const items = useQuery({ queryKey: ["items", wf, datasetId], queryFn: () => listItems(wf, datasetId) });
  const [input, setInput] = useState('{"message": ""}');
  const [expected, setExpected] = useState("");
  const [note, setNote] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const act = async (fn: () => Promise<string | void>) => {
    setError(null);
    setNote(null);
    try {
      const message = await fn();
      if (message) setNote(message);
      onChange();
    } catch (e) {
      setError(errorMessage(e));
    }
  };
  if (!dataset) return null;
  return (
    <div className="dataset-panel" aria-label={`Dataset ${dataset.name}`}>
      <div className="row-head">
        <h3>{dataset.name}</h3>
        <span className="actions">
          <a href={exportUrl(wf, datasetId, "csv")}>Export CSV</a> · <a href={exportUrl(wf, datasetId, "jsonl")}>Export JSONL</a>
        </span>
      </div>
      <details>
        <summary>Graders ({dataset.graders.length})</summary>
        <GradersEditor
          key={datasetId}
          wf={wf}
          graders={dataset.graders}
          canEdit={canEdit}
          onSave={async (graders) => {
            await updateDataset(wf, datasetId, { graders });
            onChange();
          }}
        />
      </details>
      {items.isLoading ? (
        <Loading label="Loading items" />
      ) : (
        <table className="runs-table" aria-label="Dataset items">
          <thead>
            <tr>
              <th>Input</th>
              <th>Expected</th>
              <th>Rev.</th>
              {canEdit && <th />}
            </tr>
          </thead>
          <tbody>
            {(items.data ?? []).map((item) => (
              <tr key={item.id}>
                <td><code>{short(item.input)}</code></td>
                <td><code>{short(item.expected)}</code></td>
                <td>{item.revision}</td>
                {canEdit && (
                  <td>
                    <button type="button" className="link-btn" onClick={() => act(() => deleteItem(wf, datasetId, item.id))}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canEdit && (
        <div className="item-tools">
          <form
            className="inline-form"
            onSubmit={(e) => {
              e.preventDefault();
              void act(async () => {
                const parsedExpected = expected.trim() === "" ? undefined : (() => { try { return JSON.parse(expected); } catch { return expected; } })();
                await addItems(wf, datasetId, [{ input: JSON.parse(input), expected: parsedExpected }]);
                return "Item added.";
              });
            }}
          >
            <input aria-label="Item input (JSON)" value={input} onChange={(e) => setInput(e.target.value)} />
            <input aria-label="Item expected" placeholder="expected (text or JSON)" value={expected} onChange={(e) => setExpected(e.target.value)} />
            <button type="submit">Add item</button>
          </form>
          <label className="file-label">
            Import CSV or JSONL
            <input type="file" aria-label="Import items" accept=".csv,.jsonl,.json" onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void act(async () => `Imported ${(await importItems(wf, datasetId, file)).imported} items.`);
              e.target.value = "";
            }} />
          </label>
          <button type="button" onClick={() => act(async () => `Added ${(await addRunsMatching(wf, datasetId, { feedback: "up" })).added} runs.`)}>
            Add runs rated 👍 good
          </button>
          <button type="button" onClick={() => act(async () => `Added ${(await addRunsMatching(wf, datasetId, { status: "succeeded", limit: 100 })).added} runs.`)}>
            Add recent succeeded runs
          </button>
        </div>
      )}
      {note && <p role="status">{note}</p>}
      {error && <p className="field-error" role="alert">{error}</p>}
    </div>
  );
}

function EvalRuns({ wf, canEdit, datasetId }: { wf: string; canEdit: boolean; datasetId: string | null }) {
  const qc = useQueryClient();
  const evals = useQuery({
    queryKey: ["evals", wf],
    queryFn: () => listEvals(wf),
    refetchInterval: (q) => (q.state.data?.some((e) => e.status === "running") ? 1000 : false),
  });
  const versions = useQuery({ queryKey: ["versions", wf], queryFn: () => listVersions(wf) });
  const [version, setVersion] = useState<string>("draft");
  const [open, setOpen] = useState<string | null>(null);
  const [pair, setPair] = useState<{ a: string; b: string }>({ a: "", b: "" });
  const start = useMutation({
    mutationFn: () => startEval(wf, { dataset: datasetId!, version: version === "draft" ? "draft" : Number(version) }),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["evals", wf] }),
  });
  const cancel = useMutation({
    mutationFn: (id: string) => cancelEval(wf, id),
    onSuccess: (ev) => {
      void qc.invalidateQueries({ queryKey: ["evals", wf] });
      void qc.invalidateQueries({ queryKey: ["eval", wf, ev.id] });
    },
  });
  const label = (e: EvalInfo) => `${e.is_draft ? "Draft" : `v${e.version}`} · ${e.dataset_name} · ${formatTime(e.created_at)}`;
  return (
    <div className="eval-runs">
      <div className="row-head">
        <h3>Eval runs</h3>
        {canEdit && datasetId && (
          <span className="actions">
            <select aria-label="Version to evaluate" value={version} onChange={(e) => setVersion(e.target.value)}>
              <option value="draft">Draft</option>
              {(versions.data ?? []).map((v) => (
                <option key={v.number} value={String(v.number)}>
                  v{v.number}
                </option>
              ))}
            </select>
            <button type="button" className="primary" disabled={start.isPending} onClick={() => start.mutate()}>
              Run eval
            </button>
          </span>
        )}
      </div>
      {start.isError && <p className="field-error" role="alert">{errorMessage(start.error)}</p>}
      {cancel.isError && <p className="field-error" role="alert">{errorMessage(cancel.error)}</p>}
      {evals.isLoading ? (
        <Loading label="Loading evals" />
      ) : (evals.data ?? []).length === 0 ? (
        <Empty title="No eval yet">Pick a dataset and run an eval of the draft or a version.</Empty>
      ) : (
        <table className="runs-table" aria-label="Eval runs">
          <thead>
            <tr>
              <th>Eval</th>
              <th>Status</th>
              <th>Pass rate</th>
              <th>Cost</th>
              <th>p50</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {evals.data!.map((e) => (
              <tr key={e.id} aria-label={`Eval ${label(e)}`}>
                <td>{label(e)}{e.purpose === "gate" && <span className="chip">gate</span>}</td>
                <td><span className={`chip chip-${e.status}`}>{e.status}</span></td>
                <td className="num">{pct(e.summary?.pass_rate)}</td>
                <td className="num">{e.summary ? formatCost(e.summary.cost_usd) : "—"}</td>
                <td className="num">{e.summary?.p50_ms != null ? `${e.summary.p50_ms} ms` : "—"}</td>
                <td>
                  <button type="button" className="link-btn" onClick={() => setOpen(open === e.id ? null : e.id)}>
                    {open === e.id ? "Hide" : "Items"}
                  </button>
                  {canEdit && e.status === "running" && (
                    <>
                      {" · "}
                      <button
                        type="button"
                        className="link-btn"
                        aria-label={`Cancel eval ${label(e)}`}
                        disabled={cancel.isPending}
                        onClick={() => cancel.mutate(e.id)}
                      >
                        Cancel
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {open && <EvalItems wf={wf} evalId={open} />}
      {(evals.data ?? []).length >= 2 && (
        <div className="compare-bar" aria-label="Compare evals">
          <label>
            Baseline (A)
            <select aria-label="Baseline eval" value={pair.a} onChange={(e) => setPair({ ...pair, a: e.target.value })}>
              <option value="">—</option>
              {evals.data!.map((e) => <option key={e.id} value={e.id}>{label(e)}</option>)}
            </select>
          </label>
          <label>
            Candidate (B)
            <select aria-label="Candidate eval" value={pair.b} onChange={(e) => setPair({ ...pair, b: e.target.value })}>
              <option value="">—</option>
              {evals.data!.map((e) => <option key={e.id} value={e.id}>{label(e)}</option>)}
            </select>
          </label>
        </div>
      )}
      {pair.a && pair.b && <Comparison wf={wf} a={pair.a} b={pair.b} />}
    </div>
  );
}

function EvalItems({ wf, evalId }: { wf: string; evalId: string }) {
  const ev = useQuery({
    queryKey: ["eval", wf, evalId],
    queryFn: () => getEval(wf, evalId),
    refetchInterval: (q) => (q.state.data?.status === "running" ? 1000 : false),
  });
  if (ev.isLoading) return <Loading label="Loading the eval" />;
  if (ev.isError) return <ErrorState error={ev.error} />;
  const data = ev.data!;
  return (
    <div className="eval-items">
      {data.summary && (
        <div className="cards">
          <div className="stat"><b>{pct(data.summary.pass_rate)}</b><span>pass rate ({data.summary.passed}/{data.summary.items})</span></div>
          {Object.entries(data.summary.mean_scores).map(([name, score]) => (
            <div className="stat" key={name}><b>{score.toFixed(2)}</b><span>mean {name}</span></div>
          ))}
          <div className="stat"><b>{formatCost(data.summary.cost_usd)}</b><span>total cost</span></div>
          <div className="stat"><b>{data.summary.p50_ms ?? "—"} ms</b><span>p50 latency</span></div>
        </div>
      )}
      {data.status === "cancelled" && (
        <p role="status">
          Cancelled: {data.summary?.cancelled ?? 0} of {data.summary?.items ?? "?"} items did not finish; the finished ones keep their scores.
        </p>
      )}
      {data.status === "running" && <p role="status">Running: {data.progress?.done ?? 0} of {data.progress?.items ?? "?"} items done…</p>}
      <table className="runs-table" aria-label="Eval items">
        <thead>
          <tr><th>#</th><th>Input</th><th>Expected</th><th>Output</th><th>Scores</th><th>Result</th></tr>
        </thead>
        <tbody>
          {(data.items ?? []).map((item) => (
            <tr key={item.position} className={item.passed === false ? "eval-fail" : item.passed ? "eval-pass" : ""}>
              <td>{item.position + 1}</td>
              <td><code>{short(item.input)}</code></td>
              <td><code>{short(item.expected)}</code></td>
              <td>{item.run_id ? <Link to={`/runs/${item.run_id}`}><code>{short(item.output)}</code></Link> : "—"}</td>
              <td>{Object.entries(item.scores).map(([k, v]) => `${k}: ${v.score}`).join(", ") || "—"}</td>
              <td>{item.status !== "done" ? item.status : item.passed ? "pass" : "fail"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Bars({ label, a, b, format }: { label: string; a: number; b: number; format: (x: number) => string }) {
  const max = Math.max(a, b, 1e-9);
  return (
    <figure className="chart bars" aria-label={`${label} chart`}>
      <figcaption>{label}</figcaption>
      <div className="bar-row"><span>A</span><i style={{ width: `${(a / max) * 100}%` }} className="bar-a" /><b>{format(a)}</b></div>
      <div className="bar-row"><span>B</span><i style={{ width: `${(b / max) * 100}%` }} className="bar-b" /><b>{format(b)}</b></div>
    </figure>
  );
}

function Comparison({ wf, a, b }: { wf: string; a: string; b: string }) {
  const cmp = useQuery<EvalComparison>({ queryKey: ["compare", wf, a, b], queryFn: () => compareEvals(wf, a, b) });
  if (cmp.isLoading) return <Loading label="Comparing" />;
  if (cmp.isError) return <ErrorState error={cmp.error} />;
  const c = cmp.data!;
  const sa = c.a.summary;
  const sb = c.b.summary;
  return (
    <div className="comparison" aria-label="Comparison">
      <p role="status">
        <strong className="regression">{c.regressions} regression{c.regressions === 1 ? "" : "s"}</strong>,{" "}
        <strong className="improvement">{c.improvements} improvement{c.improvements === 1 ? "" : "s"}</strong>; pass rate{" "}
        {c.delta.pass_rate >= 0 ? "+" : ""}
        {pct(c.delta.pass_rate)}
      </p>
      {sa && sb && (
        <div className="two-col">
          <Bars label="Pass rate" a={sa.pass_rate} b={sb.pass_rate} format={pct} />
          <Bars label="Cost" a={sa.cost_usd} b={sb.cost_usd} format={formatCost} />
          <Bars label="p50 latency" a={sa.p50_ms ?? 0} b={sb.p50_ms ?? 0} format={(x) => `${x} ms`} />
        </div>
      )}
      <table className="runs-table" aria-label="Item comparison">
        <thead>
          <tr><th>Input</th><th>Expected</th><th>A</th><th>B</th><th>Change</th></tr>
        </thead>
        <tbody>
          {c.items.map((row, i) => (
            <tr key={row.item_id ?? i} className={`change-${row.change}`}>
              <td><code>{short(row.input)}</code></td>
              <td><code>{short(row.expected)}</code></td>
              <td>{row.a ? `${row.a.passed ? "pass" : "fail"} · ${short(row.a.output)} · ${formatCost(row.a.cost_usd)} · ${row.a.latency_ms ?? "—"} ms` : "—"}</td>
              <td>{row.b ? `${row.b.passed ? "pass" : "fail"} · ${short(row.b.output)} · ${formatCost(row.b.cost_usd)} · ${row.b.latency_ms ?? "—"} ms` : "—"}</td>
              <td>{row.change}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function GateBox({ wf, canEdit }: { wf: string; canEdit: boolean }) {
  const qc = useQueryClient();
  const gate = useQuery({ queryKey: ["gate", wf], queryFn: () => getGate(wf) });
  const datasets = useQuery({ queryKey: ["datasets", wf], queryFn: () => listDatasets(wf) });
  const [dataset, setDataset] = useState("");
  const [rate, setRate] = useState("80");
  const save = useMutation({
    mutationFn: (on: boolean) => setGate(wf, on ? { dataset: dataset || datasets.data?.[0]?.id || "", min_pass_rate: Number(rate) / 100 } : null),
    onSuccess: () => void qc.invalidateQueries({ queryKey: ["gate", wf] }),
  });
  return (
    <div className="gate-box" aria-label="Publish gate">
      <h3>Publish gate</h3>
      {gate.data ? (
        <p role="status">
          Publishing needs <strong>{pct(gate.data.min_pass_rate)}</strong> on <strong>{gate.data.dataset_name}</strong>.
        </p>
      ) : (
        <p className="muted">Off: drafts publish without an eval.</p>
      )}
      {canEdit && (
        <div className="inline-form">
          <select aria-label="Gate dataset" value={dataset} onChange={(e) => setDataset(e.target.value)}>
            {(datasets.data ?? []).map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
          </select>
          <input aria-label="Minimum pass rate (%)" type="number" min={0} max={100} value={rate} onChange={(e) => setRate(e.target.value)} />
          <button type="button" onClick={() => save.mutate(true)} disabled={!datasets.data?.length}>
            {gate.data ? "Update gate" : "Turn on gate"}
          </button>
          {gate.data && <button type="button" onClick={() => save.mutate(false)}>Turn off</button>}
        </div>
      )}
      {save.isError && <p className="field-error" role="alert">{errorMessage(save.error)}</p>}
    </div>
  );
}
