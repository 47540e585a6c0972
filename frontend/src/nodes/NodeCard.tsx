/** The card every node type renders on the canvas: icon, name, one-line summary, ports, run status, issues. */
import { Handle, Position, useUpdateNodeInternals } from "@xyflow/react";
import { memo, useEffect, useRef, type ReactNode } from "react";
import { useNodeView } from "../fields/context";
import { hasInputPort, outputPorts } from "../graph/ports";
import { nodeTypeInfo } from "./registry";
import type { AppNode } from "./types";

interface Props {
  node: Pick<AppNode, "id" | "type" | "data">;
  selected: boolean;
  summary: ReactNode;
}

const STATUS_LABEL: Record<string, string> = {
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
  skipped: "Skipped",
  waiting: "Waiting for approval",
};

export const NodeCard = memo(function NodeCard({ node, selected, summary }: Props) {
  const info = nodeTypeInfo(node.type);
  const meta = { group: info?.group ?? "core", label: info?.label ?? node.type, icon: info?.icon ?? "?" };
  const status = useNodeView((s) => s.nodeStatus[node.id]);
  const issueCount = useNodeView((s) => s.issuesByNode[node.id]?.filter((i) => i.severity === "error").length ?? 0);
  const ports = outputPorts(node as AppNode);
  const portKey = ports.map((p) => p.id).join("|");
  const updateInternals = useUpdateNodeInternals();
  // React Flow measures handles on mount by itself; re-measure only when the ports change afterwards
  // (doing it on mount for every card makes opening a large graph quadratic).
  const mountedPorts = useRef(portKey);
  useEffect(() => {
    if (mountedPorts.current === portKey) return;
    mountedPorts.current = portKey;
    updateInternals(node.id);
  }, [portKey, node.id, updateInternals]);
  const branched = ports.length > 1 || ports.some((p) => p.kind !== "out");

  return (
    <div
      className={`card card-${meta.group}${selected ? " selected" : ""}${status ? ` run-${status}` : ""}${issueCount ? " has-issues" : ""}`}
      data-testid={`node-${node.id}`}
      aria-label={`${meta.label} node ${node.data.name}`}
    >
      {hasInputPort(node) && <Handle type="target" position={Position.Left} id="in" className="port port-in" />}
      <div className="card-head">
        <span className="card-icon" aria-hidden>
          {meta.icon}
        </span>
        <span className="card-name">{node.data.name}</span>
        {issueCount > 0 && (
          <span className="badge badge-error" title={`${issueCount} validation error(s)`}>
            {issueCount}
          </span>
        )}
        {status && (
          <span className={`status-dot status-${status}`} title={STATUS_LABEL[status]} aria-label={STATUS_LABEL[status]} />
        )}
      </div>
      <div className="card-summary">{summary}</div>
      {branched ? (
        <div className="card-ports">
          {ports.map((p) => (
            <div key={p.id} className={`card-port port-kind-${p.kind}`}>
              <span>{p.label || p.id}</span>
              <Handle type="source" position={Position.Right} id={p.id} className={`port port-out port-${p.kind}`} />
            </div>
          ))}
        </div>
      ) : (
        ports.map((p) => <Handle key={p.id} type="source" position={Position.Right} id={p.id} className="port port-out" />)
      )}
    </div>
  );
});

export const clip = (s: unknown, n = 48): string => {
  const t = typeof s === "string" ? s : s === undefined ? "" : JSON.stringify(s);
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
};
