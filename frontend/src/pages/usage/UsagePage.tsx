/** Usage: tokens and cost per day, per workflow and per model (chart + tables), and runs by status over time. */
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { usageCsvUrl } from "../../api/budgets";
import { getUsage } from "../../api/insights";
import type { UsageRow } from "../../api/screens";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";
import { formatCost } from "../common/status";
import { useBudgets } from "../budgets/BudgetBanner";
import BudgetMeter from "../budgets/BudgetMeter";
import { costWithUnknown } from "../budgets/format";
import { dayRange } from "./aggregate";
import { StackedBars } from "./charts";
import "../screens.css";

const STATUS_COLORS: [string, string, string][] = [
  ["succeeded", "Succeeded", "#10b981"],
  ["failed", "Failed", "#dc2626"],
  ["timed_out", "Timed out", "#f97316"],
  ["cancelled", "Cancelled", "#9ca3af"],
  ["waiting", "Waiting", "#d97706"],
  ["running", "Running", "#4f46e5"],
  ["queued", "Queued", "#a5b4fc"],
];

function UsageTable({ rows, label, first, link }: { rows: UsageRow[]; label: string; first: string; link?: (r: UsageRow) => string }) {
  if (!rows.length) return <p className="muted">Nothing in this period.</p>;
  return (
    <table className="table" aria-label={label}>
      <thead>
        <tr>
          <th>{first}</th>
          <th className="num">Runs</th>
          <th className="num">Input tokens</th>
          <th className="num">Output tokens</th>
          <th className="num">Cost</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <td>{link ? <Link to={link(r)}>{r.label ?? r.key}</Link> : (r.label ?? r.key)}</td>
            <td className="num">{r.runs.toLocaleString()}</td>
            <td className="num">{r.input_tokens.toLocaleString()}</td>
            <td className="num">{r.output_tokens.toLocaleString()}</td>
            <td className="num">{r.price_unknown ? costWithUnknown(r.cost_usd, r.price_unknown) : formatCost(r.cost_usd)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default function UsagePage() {
  const { current } = useWorkspace();
  const [days, setDays] = useState(30);
  const usage = useQuery({ queryKey: ["usage", current?.slug, days], queryFn: () => getUsage(days), enabled: !!current, refetchInterval: 30_000 });
  const range = dayRange(days);
  const data = usage.data;
  const tokenValues = Object.fromEntries((data?.per_day ?? []).map((r) => [r.key, { input: r.input_tokens, output: r.output_tokens }]));
  const costValues = Object.fromEntries((data?.per_day ?? []).map((r) => [r.key, { cost: r.cost_usd }]));
  const statusValues = Object.fromEntries((data?.status_by_day ?? []).map((r) => [r.day, r.counts]));
  const totals = (data?.per_day ?? []).reduce(
    (t, r) => ({
      runs: t.runs + r.runs,
      inT: t.inT + r.input_tokens,
      outT: t.outT + r.output_tokens,
      cost: t.cost + r.cost_usd,
      unknown: t.unknown + (r.price_unknown ?? 0),
    }),
    { runs: 0, inT: 0, outT: 0, cost: 0, unknown: 0 },
  );
  const budgets = useBudgets();
  const budgetList = budgets.data?.budgets ?? [];
  return (
    <section className="screen" aria-labelledby="usage-title">
      <div className="page-head">
        <h1 id="usage-title">Usage</h1>
        <div className="actions">
        <a className="button-link" href={usageCsvUrl(days)} download>
          Export CSV
        </a>
        <label className="row" style={{ alignItems: "center" }}>
          <span className="muted">Period</span>
          <select aria-label="Period" value={days} onChange={(e) => setDays(Number(e.target.value))} style={{ width: "auto" }}>
            <option value={7}>Last 7 days</option>
            <option value={30}>Last 30 days</option>
            <option value={90}>Last 90 days</option>
          </select>
        </label>
        </div>
      </div>
      {budgetList.length > 0 && (
        <section aria-label="Budgets">
          <h2>Spend against budgets</h2>
          <div className="budget-meters">
            {budgetList.map((b) => (
              <BudgetMeter key={b.id} budget={b} />
            ))}
          </div>
        </section>
      )}
      {usage.isLoading ? (
        <Loading label="Adding up usage" />
      ) : usage.isError ? (
        <ErrorState error={usage.error} retry={() => void usage.refetch()} />
      ) : !data || totals.runs === 0 ? (
        <Empty title="No runs in this period">Token usage and cost appear here once workflows run.</Empty>
      ) : (
        <>
          <div className="cards">
            <div className="stat">
              <b>{totals.runs.toLocaleString()}</b>
              <span>runs</span>
            </div>
            <div className="stat">
              <b>{totals.inT.toLocaleString()}</b>
              <span>input tokens</span>
            </div>
            <div className="stat">
              <b>{totals.outT.toLocaleString()}</b>
              <span>output tokens</span>
            </div>
            <div className="stat">
              <b>{totals.unknown ? costWithUnknown(totals.cost, totals.unknown) : formatCost(totals.cost)}</b>
              <span>cost{totals.unknown ? ` (${totals.unknown} run${totals.unknown === 1 ? "" : "s"} without a known price)` : ""}</span>
            </div>
          </div>
          <StackedBars
            label="Tokens per day"
            days={range}
            values={tokenValues}
            series={[
              { key: "input", label: "Input", color: "#6366f1" },
              { key: "output", label: "Output", color: "#a5b4fc" },
            ]}
          />
          <StackedBars
            label="Runs by status"
            days={range}
            values={statusValues}
            series={STATUS_COLORS.map(([key, label, color]) => ({ key, label, color }))}
          />
          <StackedBars label="Cost per day" days={range} values={costValues} series={[{ key: "cost", label: "USD", color: "#10b981" }]} format={(n) => formatCost(n)} />
          <h2>Per workflow</h2>
          <UsageTable rows={data.per_workflow} label="Usage per workflow" first="Workflow" link={(r) => `/workflows/${r.key}/runs`} />
          <h2>Per model</h2>
          {data.source === "server" ? (
            <UsageTable rows={data.per_model} label="Usage per model" first="Model" />
          ) : (
            <p className="muted">Per-model figures need the server's usage endpoint.</p>
          )}
          {data.per_trigger && (
            <>
              <h2>Per trigger</h2>
              <UsageTable rows={data.per_trigger} label="Usage per trigger" first="Trigger" />
            </>
          )}
          <h2>Per day</h2>
          <UsageTable rows={[...data.per_day].reverse()} label="Usage per day" first="Day" />
          {data.source === "runs" && (
            <p className="source-note">Computed in the browser from the latest {data.sampled_runs?.toLocaleString()} runs.</p>
          )}
        </>
      )}
    </section>
  );
}
