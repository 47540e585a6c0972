/** The agent's MCP tools: which workspace MCP servers the model may use, which of their tools, and which
 * calls wait for a member's approval. Other kinds of tools in the list are kept as they are. */
import { useQuery } from "@tanstack/react-query";
import { listMcpServers } from "../../api/mcp";
import { Field } from "../../fields/Field";

interface McpToolRef {
  type: "mcp";
  server: string;
  allowed_tools?: string[] | null;
  require_approval?: "never" | "always" | string[];
}

const isMcp = (t: unknown): t is McpToolRef => !!t && typeof t === "object" && (t as { type?: unknown }).type === "mcp";

export function McpToolsField({ nodeId, tools, onChange }: { nodeId: string; tools: unknown[]; onChange: (tools: unknown[]) => void }) {
  const servers = useQuery({ queryKey: ["mcp-servers"], queryFn: listMcpServers, retry: 0 });
  const names = servers.data?.map((s) => s.name) ?? [];
  const setAt = (index: number, patch: Partial<McpToolRef>) => onChange(tools.map((t, i) => (i === index ? { ...(t as McpToolRef), ...patch } : t)));
  const remove = (index: number) => onChange(tools.filter((_, i) => i !== index));
  const add = () => onChange([...tools, { type: "mcp", server: names[0] ?? "", require_approval: "always" }]);
  return (
    <Field nodeId={nodeId} field="tools" label="MCP tools" hint="The model may call these servers' tools; calls that need approval pause the run.">
      <div className="kv-list">
        {tools.map((t, i) =>
          isMcp(t) ? (
            <div className="kv-row mcp-tool-row" key={i} data-field={`tools[${i}]`}>
              <select aria-label={`MCP tool server ${i + 1}`} value={t.server} onChange={(e) => setAt(i, { server: e.target.value })}>
                {!names.includes(t.server) && <option value={t.server}>{t.server || "— choose —"}</option>}
                {names.map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
              <input
                aria-label={`MCP tool allowlist ${i + 1}`}
                placeholder="every tool"
                value={(t.allowed_tools ?? []).join(", ")}
                onChange={(e) => {
                  const list = e.target.value.split(",").map((x) => x.trim()).filter(Boolean);
                  setAt(i, { allowed_tools: list.length ? list : null });
                }}
              />
              <select
                aria-label={`MCP tool approval ${i + 1}`}
                value={Array.isArray(t.require_approval) ? "always" : (t.require_approval ?? "never")}
                onChange={(e) => setAt(i, { require_approval: e.target.value as "never" | "always" })}
              >
                <option value="never">No approval</option>
                <option value="always">Approve every call</option>
              </select>
              <button type="button" className="icon-btn" aria-label={`Remove MCP tool ${i + 1}`} onClick={() => remove(i)}>
                ×
              </button>
            </div>
          ) : null,
        )}
        <button type="button" className="small" onClick={add}>
          + Add MCP server
        </button>
      </div>
    </Field>
  );
}
