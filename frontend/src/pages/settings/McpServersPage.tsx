/** MCP servers: remote tool servers (streamable HTTP) for mcp nodes and agents. Admins add and remove them;
 * editors fetch their tools. Header values are secret references: no secret value ever reaches the browser. */
import { useMutation } from "@tanstack/react-query";
import { errorMessage } from "../../api/client";
import { createMcpServer, deleteMcpServer, fetchMcpTools, listMcpServers, type McpServerInfo } from "../../api/mcp";
import { CreateForm } from "../../components/CreateForm";
import { ListTable } from "../../components/ListTable";
import { Empty, ListStates } from "../../components/States";
import { useCreateForm } from "../../components/useCreateForm";
import { SecretPicker } from "../../fields/SecretPicker";
import { useWorkspaceList } from "../../shell/workspace";
import { useCan } from "../common/roles";
import "../screens.css";

const NEW_SERVER = { name: "", url: "", authSecret: null as string | null, allowed: "" };

export default function McpServersPage() {
  const isAdmin = useCan("admin");
  const canFetch = useCan("editor");
  const { list, refresh } = useWorkspaceList("mcp-servers", listMcpServers);
  const create = useCreateForm(
    NEW_SERVER,
    (f) =>
      createMcpServer({
        name: f.name.trim(),
        url: f.url.trim(),
        headers: f.authSecret ? { Authorization: { secret: f.authSecret } } : {},
        allowed_tools: f.allowed.trim() ? f.allowed.split(",").map((t) => t.trim()).filter(Boolean) : null,
      }),
    refresh,
  );
  return (
    <div className="settings-panel">
      {isAdmin && (
        <CreateForm label="Add an MCP server" button="Add server" form={create}>
          <label>
            Server name
            <input required value={create.values.name} onChange={(e) => create.set("name", e.target.value)} placeholder="github" />
          </label>
          <label>
            URL (streamable HTTP)
            <input required value={create.values.url} onChange={(e) => create.set("url", e.target.value)} placeholder="https://mcp.example.com/mcp" />
          </label>
          <label>
            Authorization header (secret)
            <SecretPicker label="Authorization secret" value={create.values.authSecret} onChange={(secret) => create.set("authSecret", secret)} />
          </label>
          <label>
            Allowed tools
            <input value={create.values.allowed} onChange={(e) => create.set("allowed", e.target.value)} placeholder="empty = every tool" />
          </label>
        </CreateForm>
      )}
      <ListStates
        query={list}
        loading="Loading MCP servers"
        empty={<Empty title="No MCP servers">MCP nodes and agents call the tools of a remote MCP server (streamable HTTP).</Empty>}
      >
        {(servers) => (
          <ListTable label="MCP servers" columns={["Name", "URL", "Headers", "Tools"]}>
            {servers.map((s) => (
              <ServerRow key={s.id} s={s} isAdmin={isAdmin} canFetch={canFetch} onChanged={refresh} />
            ))}
          </ListTable>
        )}
      </ListStates>
    </div>
  );
}

function ServerRow({ s, isAdmin, canFetch, onChanged }: { s: McpServerInfo; isAdmin: boolean; canFetch: boolean; onChanged: () => void }) {
  const fetchTools = useMutation({ mutationFn: () => fetchMcpTools(s.id), onSettled: onChanged });
  const remove = useMutation({ mutationFn: () => deleteMcpServer(s.id), onSettled: onChanged });
  const error = fetchTools.error ?? remove.error;
  const headers = Object.entries(s.headers);
  return (
    <tr>
      <td>
        <strong>{s.name}</strong>
        {s.allowed_tools && <div className="muted small-text">allows {s.allowed_tools.join(", ")}</div>}
      </td>
      <td>
        <code>{s.url}</code>
      </td>
      <td className="small-text">
        {headers.length ? headers.map(([h, ref]) => <div key={h}>{h}: secret <code>{ref.secret}</code></div>) : <span className="muted">none</span>}
      </td>
      <td className="small-text">
        {s.tools === null ? (
          <span className="muted">not fetched</span>
        ) : (
          <ul className="plain-list" aria-label={`Tools of ${s.name}`}>
            {s.tools.map((t) => (
              <li key={t.name} title={t.description}>
                <code>{t.name}</code> <span className="muted">{t.description}</span>
              </li>
            ))}
          </ul>
        )}
      </td>
      <td>
        <div className="actions">
          {canFetch && (
            <button type="button" className="small" onClick={() => fetchTools.mutate()} disabled={fetchTools.isPending}>
              {fetchTools.isPending ? "Fetching…" : "Fetch tools"}
            </button>
          )}
          {isAdmin && (
            <button type="button" className="danger-link" onClick={() => window.confirm(`Delete ${s.name}?`) && remove.mutate()}>
              Delete
            </button>
          )}
        </div>
        {error && (
          <p className="field-error" role="alert">
            {errorMessage(error)}
          </p>
        )}
      </td>
    </tr>
  );
}
