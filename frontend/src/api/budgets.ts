/** Budgets, model prices and the usage CSV (budgets/apis.py, DESIGN §12). */
import { api, currentWorkspace } from "./client";

export type BudgetWindow = "month" | "day";
export type BudgetScope = "workspace" | "workflow" | "api_token" | "chat_deployment";

/** The budget's current window (workspace time zone). */
export interface BudgetStanding {
  window_start: string;
  window_end: string;
  spent_usd: number;
  reserved_usd: number;
  left_usd: number;
  used_fraction: number;
  /** Spend at the end of the window at the recent rate. */
  forecast_usd: number;
  forecast_exceeds: boolean;
  alerted_at: string | null;
  /** The first model call refused in this window. */
  exceeded_at: string | null;
  alert_delivery: { state: string; attempts?: number; status_code?: number | null; error?: string } | null;
}

export interface Budget {
  id: string;
  scope: BudgetScope;
  target_id: string;
  target_name: string | null;
  window: BudgetWindow;
  limit_usd: number;
  alert_at: number;
  alert_webhook_url: string;
  current: BudgetStanding;
}

export interface BudgetsResponse {
  time_zone: string;
  workspace: Budget | null;
  budgets: Budget[];
}

export interface BudgetIn {
  window: BudgetWindow;
  limit_usd: number;
  alert_at?: number;
  alert_webhook_url?: string;
}

export interface ModelPrice {
  model: string;
  input: number;
  cached_input: number | null;
  output: number;
  reasoning: number | null;
  effective_from: string | null;
  source: "default" | "environment" | "workspace";
}

export interface PriceIn {
  model: string;
  input: number;
  output: number;
  cached_input?: number | null;
  reasoning?: number | null;
  effective_from?: string;
}

export const getBudgets = () => api<BudgetsResponse>("GET", "budgets");
export const setWorkspaceBudget = (body: BudgetIn) => api<Budget>("PUT", "budgets", body);
export const deleteWorkspaceBudget = () => api<void>("DELETE", "budgets");
export const setWorkflowBudget = (workflowId: string, body: BudgetIn) => api<Budget>("PUT", `workflows/${workflowId}/budget`, body);
export const deleteWorkflowBudget = (workflowId: string) => api<void>("DELETE", `workflows/${workflowId}/budget`);
export const getModelPrices = () => api<{ prices: ModelPrice[]; history: ModelPrice[] }>("GET", "model-prices");
export const addModelPrices = (prices: PriceIn[]) => api<{ prices: ModelPrice[]; history: ModelPrice[] }>("PUT", "model-prices", { prices });
export const setWorkspaceTimeZone = (workspaceId: string, timeZone: string) =>
  api<{ time_zone: string }>("PATCH", `workspaces/${workspaceId}`, { time_zone: timeZone });

/** The CSV download link (a plain GET: the session cookie authenticates it, ?workspace= picks the workspace). */
export function usageCsvUrl(days: number): string {
  const ws = currentWorkspace();
  return `/api/v1/usage/export.csv?days=${days}${ws ? `&workspace=${encodeURIComponent(ws)}` : ""}`;
}

/** Budgets whose current window crossed its alert threshold or refused a call: what the banner shows. */
export function budgetsNeedingAttention(budgets: Budget[]): Budget[] {
  return budgets.filter((b) => b.current.alerted_at || b.current.exceeded_at || b.current.used_fraction >= b.alert_at);
}

export function budgetLabel(b: Budget): string {
  if (b.scope === "workspace") return "Workspace";
  const kind = b.scope === "workflow" ? "Workflow" : b.scope === "api_token" ? "API token" : "Chat deployment";
  return `${kind}: ${b.target_name ?? b.target_id}`;
}
