/** Which ports a node has, derived from its type and config (DESIGN §3). */
import type { AppNode } from "../nodes/types";

export interface Port {
  id: string;
  label: string;
  kind: "out" | "branch" | "error";
}

export function outputPorts(node: AppNode): Port[] {
  const ports: Port[] = [];
  switch (node.type) {
    case "end":
    case "note":
      return [];
    case "if_else":
      for (const c of node.data.config.cases ?? []) ports.push({ id: c.port, label: c.label || c.port, kind: "branch" });
      ports.push({ id: "else", label: "Else", kind: "branch" });
      break;
    case "while":
      ports.push({ id: "loop", label: "Loop", kind: "branch" }, { id: "exit", label: "Exit", kind: "branch" });
      break;
    case "user_approval":
      ports.push({ id: "approved", label: "Approved", kind: "branch" }, { id: "rejected", label: "Rejected", kind: "branch" });
      break;
    case "guardrails":
      ports.push({ id: "pass", label: "Pass", kind: "branch" }, { id: "fail", label: "Fail", kind: "branch" });
      break;
    default:
      ports.push({ id: "out", label: "", kind: "out" });
  }
  if (node.type !== "start" && (node.data.config as { on_error?: string }).on_error === "route") {
    ports.push({ id: "error", label: "Error", kind: "error" });
  }
  return ports;
}

export function hasInputPort(node: Pick<AppNode, "type">): boolean {
  return node.type !== "start" && node.type !== "note";
}
