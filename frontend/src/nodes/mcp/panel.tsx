/** Inspector of the mcp node: a workspace MCP server, one of its tools (as last fetched), and the tool's
 * arguments as expressions; required arguments of the tool's input schema are offered as fields. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { errorMessage } from "../../api/client";
import { fetchMcpTools, listMcpServers } from "../../api/mcp";
import { Field } from "../../fields/Field";
import { KeyValueExpressions } from "../../fields/KeyValueExpressions";
import type { PanelProps } from "../panelTypes";
import type { McpNode } from "./types";

export function McpPanel({ node, update }: PanelProps<McpNode>) {
  const c = node.data.config;
  const qc = useQueryClient();
  const servers = useQuery({ queryKey: ["mcp-servers"], queryFn: listMcpServers, retry: 0 });
  const server = servers.data?.find((s) => s.name === c.server);
  const fetchTools = useMutation({
    mutationFn: () => fetchMcpTools(server!.id),
    onSettled: () => void qc.invalidateQueries({ queryKey: ["mcp-servers"] }),
  });
  const tools = server?.tools ?? null;
  const tool = tools?.find((t) => t.name === c.tool);
  const args = c.arguments ?? {};
  const missing = (tool?.input_schema.required ?? []).filter((name) => !(name in args));
  const names = servers.data?.map((s) => s.name) ?? [];
  return (
    <>
      <Field nodeId={node.id} field="server" label="MCP server">
        <select aria-label="MCP server" value={c.server ?? ""} onChange={(e) => update({ server: e.target.value, tool: "" })}>
          <option value="">— choose —</option>
          {c.server && !names.includes(c.server) && <option value={c.server}>{c.server} (missing)</option>}
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
        {servers.isSuccess && !names.length && (
          <span className="field-hint">
            No MCP servers yet — <Link to="/settings/mcp-servers">add one</Link>.
          </span>
        )}
      </Field>
      <Field nodeId={node.id} field="tool" label="Tool">
        {tools ? (
          <select aria-label="Tool" value={c.tool ?? ""} onChange={(e) => update({ tool: e.target.value })}>
            <option value="">— choose —</option>
            {c.tool && !tools.some((t) => t.name === c.tool) && <option value={c.tool}>{c.tool} (not on the server)</option>}
            {tools.map((t) => (
              <option key={t.name} value={t.name}>
                {t.name}
              </option>
            ))}
          </select>
        ) : (
          <input aria-label="Tool" value={c.tool ?? ""} onChange={(e) => update({ tool: e.target.value })} />
        )}
        {server && (
          <button type="button" className="small" onClick={() => fetchTools.mutate()} disabled={fetchTools.isPending}>
            {fetchTools.isPending ? "Fetching…" : tools ? "Refresh tools" : "Fetch tools"}
          </button>
        )}
        {fetchTools.isError && <span className="field-error">{errorMessage(fetchTools.error)}</span>}
        {tool?.description && <span className="field-hint">{tool.description}</span>}
      </Field>
      <KeyValueExpressions nodeId={node.id} field="arguments" label="Arguments" value={args} onChange={(a) => update({ arguments: a })} />
      {missing.length > 0 && (
        <p className="field-hint">
          Needs {missing.join(", ")}.{" "}
          <button type="button" className="small" onClick={() => update({ arguments: { ...args, ...Object.fromEntries(missing.map((m) => [m, ""])) } })}>
            Add the missing arguments
          </button>
        </p>
      )}
    </>
  );
}
