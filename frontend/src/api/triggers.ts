/** Triggers API (webhooks): list, create (secret shown once), enable/disable, rotate, delete, deliveries. */
import { api } from "./client";
import type { AuthMode, DeliveryInfo, TriggerInfo } from "./screens";

const base = (workflowId: string) => `workflows/${workflowId}/triggers`;

export const listTriggers = (workflowId: string) => api<TriggerInfo[]>("GET", base(workflowId));
export const createTrigger = (workflowId: string, body: { name: string; auth_mode: AuthMode; response_mode?: "async" | "sync" }) =>
  api<TriggerInfo>("POST", base(workflowId), { kind: "webhook", ...body });
export const setTriggerEnabled = (workflowId: string, id: string, enabled: boolean) =>
  api<TriggerInfo>("POST", `${base(workflowId)}/${id}/${enabled ? "enable" : "disable"}`, {});
export const rotateTriggerSecret = (workflowId: string, id: string) =>
  api<TriggerInfo>("POST", `${base(workflowId)}/${id}/rotate-secret`, {});
export const deleteTrigger = (workflowId: string, id: string) => api<void>("DELETE", `${base(workflowId)}/${id}`);
export const listDeliveries = (workflowId: string, id: string) =>
  api<DeliveryInfo[]>("GET", `${base(workflowId)}/${id}/deliveries?limit=20`);
