/** Settings → Budgets: the workspace budget, workflow budgets, the time zone of the windows, and model prices.
 * Members see them; only admins change them. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type FormEvent } from "react";
import {
  addModelPrices,
  deleteWorkflowBudget,
  deleteWorkspaceBudget,
  getModelPrices,
  setWorkflowBudget,
  setWorkspaceBudget,
  setWorkspaceTimeZone,
  type Budget,
  type BudgetIn,
  type BudgetWindow,
} from "../../api/budgets";
import { errorMessage } from "../../api/client";
import { listWorkflows } from "../../api/workflows";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";
import { useBudgets } from "../budgets/BudgetBanner";
import BudgetMeter from "../budgets/BudgetMeter";
import { useCan } from "../common/roles";
import "../budgets/budgets.css";
import "../screens.css";

interface FormState {
  window: BudgetWindow;
  limit: string;
  alertPct: string;
  url: string;
}

const EMPTY: FormState = { window: "month", limit: "", alertPct: "80", url: "" };

function toBody(f: FormState): BudgetIn {
  return { window: f.window, limit_usd: Number(f.limit), alert_at: Number(f.alertPct) / 100, alert_webhook_url: f.url.trim() };
}

function fromBudget(b: Budget | null | undefined): FormState {
  if (!b) return EMPTY;
  return { window: b.window, limit: String(b.limit_usd), alertPct: String(Math.round(b.alert_at * 100)), url: b.alert_webhook_url };
}

function BudgetFields({ value, onChange, disabled, withUrl = true }: { value: FormState; onChange: (f: FormState) => void; disabled: boolean; withUrl?: boolean }) {
  return (
    <>
      <label>
        Window
        <select value={value.window} disabled={disabled} onChange={(e) => onChange({ ...value, window: e.target.value as BudgetWindow })}>
          <option value="month">Calendar month</option>
          <option value="day">Calendar day</option>
        </select>
      </label>
      <label>
        Hard limit (USD)
        <input required type="number" min="0" step="any" disabled={disabled} value={value.limit} onChange={(e) => onChange({ ...value, limit: e.target.value })} placeholder="50" />
      </label>
      <label>
        Alert at (%)
        <input required type="number" min="0" max="100" step="1" disabled={disabled} value={value.alertPct} onChange={(e) => onChange({ ...value, alertPct: e.target.value })} />
      </label>
      {withUrl && (
        <label className="wide">
          Alert webhook (optional)
          <input type="url" disabled={disabled} value={value.url} onChange={(e) => onChange({ ...value, url: e.target.value })} placeholder="https://hooks.example.com/budget" />
        </label>
      )}
    </>
  );
}

export default function BudgetsPage() {
  const { current } = useWorkspace();
  const isAdmin = useCan("admin");
  const qc = useQueryClient();
  const budgets = useBudgets();
  const refresh = () => void qc.invalidateQueries({ queryKey: ["budgets"] });
  const [form, setForm] = useState<FormState>(EMPTY);
  const [zone, setZone] = useState("");
  useEffect(() => setForm(fromBudget(budgets.data?.workspace)), [budgets.data?.workspace]);
  useEffect(() => setZone(budgets.data?.time_zone ?? ""), [budgets.data?.time_zone]);

  const save = useMutation({ mutationFn: () => setWorkspaceBudget(toBody(form)), onSuccess: refresh });
  const remove = useMutation({ mutationFn: deleteWorkspaceBudget, onSuccess: refresh });
  const saveZone = useMutation({ mutationFn: () => setWorkspaceTimeZone(current!.id, zone.trim()), onSuccess: refresh });

  if (budgets.isLoading) return <Loading label="Loading budgets" />;
  if (budgets.isError) return <ErrorState error={budgets.error} retry={() => void budgets.refetch()} />;
  const data = budgets.data!;
  const others = data.budgets.filter((b) => b.scope !== "workspace");
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };

  return (
    <div className="settings-panel">
      <h2>Workspace budget</h2>
      <p className="muted">
        A model call that would cross the hard limit is not sent: its step fails with <code>budget_exceeded</code>. At the alert
        threshold an audit event is recorded, this banner appears and the optional webhook is called (signed like run
        callbacks). Windows are calendar days or months in the workspace time zone.
      </p>
      {data.workspace && <BudgetMeter budget={data.workspace} />}
      <form className="form budget-form" onSubmit={submit} aria-label="Workspace budget">
        <BudgetFields value={form} onChange={setForm} disabled={!isAdmin} />
        {isAdmin && (
          <div className="actions">
            <button type="submit" className="primary" disabled={save.isPending}>
              {data.workspace ? "Save budget" : "Set budget"}
            </button>
            {data.workspace && (
              <button type="button" className="danger-link" onClick={() => remove.mutate()} disabled={remove.isPending}>
                Remove
              </button>
            )}
          </div>
        )}
      </form>
      {save.isSuccess && !save.isPending && <p className="ok-text" role="status">Budget saved.</p>}
      {(save.isError || remove.isError) && <p className="field-error" role="alert">{errorMessage(save.error ?? remove.error)}</p>}

      <form
        className="form inline-form"
        aria-label="Time zone"
        onSubmit={(e) => {
          e.preventDefault();
          saveZone.mutate();
        }}
      >
        <label>
          Time zone of the windows
          <input value={zone} disabled={!isAdmin} onChange={(e) => setZone(e.target.value)} placeholder="Europe/Berlin" />
        </label>
        {isAdmin && (
          <button type="submit" disabled={saveZone.isPending || zone === data.time_zone}>
            Save time zone
          </button>
        )}
        {saveZone.isError && <span className="field-error">{errorMessage(saveZone.error)}</span>}
      </form>

      <h2>Workflow budgets</h2>
      {others.length ? (
        <div className="budget-meters">
          {others.map((b) => (
            <OtherBudget key={b.id} budget={b} canEdit={isAdmin} onChanged={refresh} />
          ))}
        </div>
      ) : (
        <p className="muted">No workflow or API token budgets.</p>
      )}
      {isAdmin && <AddWorkflowBudget onAdded={refresh} taken={new Set(others.map((b) => b.target_id))} />}

      <ModelPrices canEdit={isAdmin} />
    </div>
  );
}

function OtherBudget({ budget, canEdit, onChanged }: { budget: Budget; canEdit: boolean; onChanged: () => void }) {
  const remove = useMutation({ mutationFn: () => deleteWorkflowBudget(budget.target_id), onSuccess: onChanged });
  return (
    <div>
      <BudgetMeter budget={budget} />
      {canEdit && budget.scope === "workflow" && (
        <button type="button" className="danger-link" onClick={() => remove.mutate()} aria-label={`Remove the budget of ${budget.target_name}`}>
          Remove
        </button>
      )}
    </div>
  );
}

function AddWorkflowBudget({ onAdded, taken }: { onAdded: () => void; taken: Set<string> }) {
  const { current } = useWorkspace();
  const workflows = useQuery({ queryKey: ["workflows", current?.slug], queryFn: listWorkflows, enabled: !!current });
  const [workflowId, setWorkflowId] = useState("");
  const [form, setForm] = useState<FormState>(EMPTY);
  const add = useMutation({
    mutationFn: () => setWorkflowBudget(workflowId, toBody(form)),
    onSuccess: () => {
      setWorkflowId("");
      setForm(EMPTY);
      onAdded();
    },
  });
  const choices = (workflows.data ?? []).filter((w) => !taken.has(w.id));
  return (
    <form
      className="form budget-form"
      aria-label="Add a workflow budget"
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
    >
      <label className="wide">
        Workflow
        <select required value={workflowId} onChange={(e) => setWorkflowId(e.target.value)}>
          <option value="">Choose a workflow…</option>
          {choices.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
            </option>
          ))}
        </select>
      </label>
      <BudgetFields value={form} onChange={setForm} disabled={false} withUrl={false} />
      <div className="actions">
        <button type="submit" disabled={add.isPending || !workflowId}>
          Add workflow budget
        </button>
      </div>
      {add.isError && <p className="field-error">{errorMessage(add.error)}</p>}
    </form>
  );
}

function ModelPrices({ canEdit }: { canEdit: boolean }) {
  const { current } = useWorkspace();
  const qc = useQueryClient();
  const prices = useQuery({ queryKey: ["model-prices", current?.slug], queryFn: getModelPrices, enabled: !!current });
  const [row, setRow] = useState({ model: "", input: "", cached: "", output: "", reasoning: "" });
  const num = (s: string) => (s.trim() === "" ? null : Number(s));
  const add = useMutation({
    mutationFn: () =>
      addModelPrices([
        { model: row.model.trim(), input: Number(row.input), output: Number(row.output), cached_input: num(row.cached), reasoning: num(row.reasoning) },
      ]),
    onSuccess: () => {
      setRow({ model: "", input: "", cached: "", output: "", reasoning: "" });
      void qc.invalidateQueries({ queryKey: ["model-prices"] });
    },
  });
  const fmt = (n: number | null) => (n == null ? "—" : `$${n}`);
  return (
    <>
      <h2>Model prices</h2>
      <p className="muted">
        USD per 1M tokens. A new price applies from now on; costs already recorded keep the price they had. A model with no price shows
        “price unknown” and cannot run under a budget.
      </p>
      {canEdit && (
        <form
          className="form inline-form"
          aria-label="Add a model price"
          onSubmit={(e) => {
            e.preventDefault();
            add.mutate();
          }}
        >
          <label>
            Model
            <input required value={row.model} onChange={(e) => setRow({ ...row, model: e.target.value })} placeholder="ft:gpt-4.1-mini:acme" />
          </label>
          <label>
            Input
            <input required type="number" min="0" step="any" value={row.input} onChange={(e) => setRow({ ...row, input: e.target.value })} />
          </label>
          <label>
            Cached input
            <input type="number" min="0" step="any" value={row.cached} onChange={(e) => setRow({ ...row, cached: e.target.value })} placeholder="= input" />
          </label>
          <label>
            Output
            <input required type="number" min="0" step="any" value={row.output} onChange={(e) => setRow({ ...row, output: e.target.value })} />
          </label>
          <label>
            Reasoning
            <input type="number" min="0" step="any" value={row.reasoning} onChange={(e) => setRow({ ...row, reasoning: e.target.value })} placeholder="= output" />
          </label>
          <button type="submit" disabled={add.isPending}>
            Add price
          </button>
          {add.isError && <span className="field-error">{errorMessage(add.error)}</span>}
        </form>
      )}
      {prices.isLoading ? (
        <Loading label="Loading prices" />
      ) : prices.isError ? (
        <ErrorState error={prices.error} />
      ) : !prices.data?.prices.length ? (
        <Empty title="No prices">Add a price for each model your providers offer.</Empty>
      ) : (
        <table className="table" aria-label="Model prices">
          <thead>
            <tr>
              <th>Model</th>
              <th className="num">Input</th>
              <th className="num">Cached input</th>
              <th className="num">Output</th>
              <th className="num">Reasoning</th>
              <th>Source</th>
              <th>Since</th>
            </tr>
          </thead>
          <tbody>
            {prices.data.prices.map((p) => (
              <tr key={p.model}>
                <td>
                  <code>{p.model}</code>
                </td>
                <td className="num">{fmt(p.input)}</td>
                <td className="num">{fmt(p.cached_input)}</td>
                <td className="num">{fmt(p.output)}</td>
                <td className="num">{fmt(p.reasoning)}</td>
                <td className="muted">{p.source === "workspace" ? "this workspace" : p.source === "environment" ? "server setting" : "built-in"}</td>
                <td className="muted">{p.effective_from ? new Date(p.effective_from).toLocaleString() : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
