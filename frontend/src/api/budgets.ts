/** Budgets, model prices and the usage CSV (budgets/apis.py, DESIGN §12). */
import { api, currentWorkspace } from "./client";
import type { components } from "./schema";

type Schemas = components["schemas"];

export type BudgetWindow = Schemas["WindowEnum"];
export type BudgetScope = Schemas["ScopeEnum"];

/** The budget's current window (workspace time zone). */
export type BudgetStanding = Schemas["StandingOut"];

export type Budget = Schemas["BudgetOut"];

export type BudgetsResponse = Schemas["BudgetsOut"];

export type BudgetIn = Schemas["BudgetInRequest"];

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
