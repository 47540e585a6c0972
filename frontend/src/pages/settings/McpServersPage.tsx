/** MCP servers: remote tool servers (streamable HTTP) for mcp nodes and agents. Admins add and remove them;
 * editors fetch their tools. Header values are secret references: no secret value ever reaches the browser. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import { createMcpServer, deleteMcpServer, fetchMcpTools, listMcpServers, type McpServerInfo } from "../../api/mcp";
import { Empty, ErrorState, Loading } from "../../components/States";
import { SecretPicker } from "../../fields/SecretPicker";
import { useWorkspace } from "../../shell/workspace";
import { useCan } from "../common/roles";
import "../screens.css";

export default function McpServersPage() {
  const { current } = useWorkspace();
  const isAdmin = useCan("admin");
  const canFetch = useCan("editor");
  const qc = useQueryClient();
  const servers = useQuery({ queryKey: ["mcp-servers", current?.slug], queryFn: listMcpServers, enabled: !!current });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["mcp-servers"] });
  const [name, setName] = useState("");
  const [url, setUrl] = useState("");
  const [authSecret, setAuthSecret] = useState<string | null>(null);
  const [allowed, setAllowed] = useState("");
  const create = useMutation({
    mutationFn: () =>
      createMcpServer({
        name: name.trim(),
        url: url.trim(),
        headers: authSecret ? { Authorization: { secret: authSecret } } : {},
        allowed_tools: allowed.trim() ? allowed.split(",").map((t) => t.trim()).filter(Boolean) : null,
      }),
    onSuccess: () => {
      setName("");
      setUrl("");
      setAuthSecret(null);
      setAllowed("");
      refresh();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <div className="settings-panel">
      {isAdmin && (
        <form className="form inline-form" onSubmit={submit} aria-label="Add an MCP server">
          <label>
            Server name
            <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="github" />
          </label>
          <label>
            URL (streamable HTTP)
            <input required value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://mcp.example.com/mcp" />
          </label>
          <label>
            Authorization header (secret)
            <SecretPicker label="Authorization secret" value={authSecret} onChange={setAuthSecret} />
          </label>
          <label>
            Allowed tools
            <input value={allowed} onChange={(e) => setAllowed(e.target.value)} placeholder="empty = every tool" />
          </label>
          <button type="submit" className="primary" disabled={create.isPending}>
            Add server
          </button>
        </form>
      )}
      {create.isError && <p className="field-error">{errorMessage(create.error)}</p>}
      {servers.isLoading ? (
        <Loading label="Loading MCP servers" />
      ) : servers.isError ? (
        <ErrorState error={servers.error} retry={() => void servers.refetch()} />
      ) : !servers.data?.length ? (
        <Empty title="No MCP servers">MCP nodes and agents call the tools of a remote MCP server (streamable HTTP).</Empty>
      ) : (
        <table className="table" aria-label="MCP servers">
          <thead>
            <tr>
              <th>Name</th>
              <th>URL</th>
              <th>Headers</th>
              <th>Tools</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {servers.data.map((s) => (
              <ServerRow key={s.id} s={s} isAdmin={isAdmin} canFetch={canFetch} onChanged={refresh} />
            ))}
          </tbody>
        </table>
      )}
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
