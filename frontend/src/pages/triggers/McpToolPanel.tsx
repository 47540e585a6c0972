/** "Expose as MCP tool": the workflow's published version becomes a tool of the workspace's MCP server
 * (POST /mcp, API-token auth), named by the workflow's slug. */
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { errorMessage } from "../../api/client";
import type { WorkflowSummary } from "../../api/types";
import { setWorkflowMcpTool } from "../../api/workflows";

export function McpToolPanel({ workflow, canEdit }: { workflow: WorkflowSummary; canEdit: boolean }) {
  const qc = useQueryClient();
  const toggle = useMutation({
    mutationFn: (expose: boolean) => setWorkflowMcpTool(workflow.id, { expose_as_tool: expose }),
    onSettled: () => void qc.invalidateQueries({ queryKey: ["workflow", workflow.id] }),
  });
  // While the change is saved, show what was asked for (the workflow is refetched when it settles).
  const exposed = toggle.isPending && toggle.variables !== undefined ? toggle.variables : !!workflow.expose_as_tool;
  return (
    <section className="mcp-tool-panel" aria-label="MCP tool">
      <h2>MCP tool</h2>
      <label className="check">
        <input
          type="checkbox"
          checked={exposed}
          disabled={!canEdit || toggle.isPending}
          onChange={(e) => toggle.mutate(e.target.checked)}
        />
        Expose as MCP tool
      </label>
      <p className="muted small-text">
        MCP clients (Claude Desktop, Cursor, the MCP SDK) connect to <code>{window.location.origin}/mcp</code> with an API token as{" "}
        <code>Authorization: Bearer trl_…</code>
        {exposed && workflow.slug ? (
          <>
            {" "}
            and see this workflow as the tool <code>{workflow.slug}</code>
            {workflow.published_version ? "." : " once it is published."}
          </>
        ) : (
          "."
        )}
      </p>
      {toggle.isError && <p className="field-error">{errorMessage(toggle.error)}</p>}
    </section>
  );
}
