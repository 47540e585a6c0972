/** Workspace secrets: names only; values are write-only. */
import { useMutation } from "@tanstack/react-query";
import { deleteSecret, listSecrets, setSecret } from "../../api/accounts";
import { errorMessage } from "../../api/client";
import { ListTable } from "../../components/ListTable";
import { Empty, ListStates } from "../../components/States";
import { useCreateForm } from "../../components/useCreateForm";
import { useWorkspaceList } from "../../shell/workspace";
import { useCan } from "../common/roles";
import CallbackSecretPanel from "./CallbackSecretPanel";

const NEW_SECRET = { name: "", value: "" };

export default function SecretsPage() {
  // Editors may see the names (to pick one in a node); only admins add, replace or delete.
  const canRead = useCan("editor");
  const isAdmin = useCan("admin");
  const { list, refresh } = useWorkspaceList("secrets", listSecrets, canRead);
  const save = useCreateForm(NEW_SECRET, (f) => setSecret(f.name, f.value), refresh);
  const remove = useMutation({ mutationFn: deleteSecret, onSettled: refresh });
  if (!canRead) return <Empty title="Secrets are for editors and admins">Ask an admin of this workspace if a workflow needs a new key.</Empty>;
  return (
    <div className="settings-panel">
      {isAdmin && (
      <form className="form inline-form" onSubmit={save.submit} aria-label="Add a secret">
        <label>
          Name
          <input required value={save.values.name} onChange={(e) => save.set("name", e.target.value.toUpperCase())} placeholder="OPENAI_API_KEY" />
        </label>
        <label>
          Value
          <input required type="password" autoComplete="off" value={save.values.value} onChange={(e) => save.set("value", e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={save.mutation.isPending}>
          Save secret
        </button>
      </form>
      )}
      {(save.mutation.isError || remove.isError) && <p className="field-error">{errorMessage(save.mutation.error ?? remove.error)}</p>}
      <ListStates
        query={list}
        loading="Loading secrets"
        empty={<Empty title="No secrets">Secrets hold API keys for HTTP, MCP and model providers. Values are never shown again.</Empty>}
      >
        {(secrets) => (
          <ListTable label="Secrets" columns={["Name", "Updated"]}>
            {secrets.map((s) => (
              <tr key={s.name}>
                <td><code>{s.name}</code></td>
                <td className="muted">{s.updated_at ? new Date(s.updated_at).toLocaleString() : "—"}</td>
                <td>
                  <button type="button" className="danger-link" hidden={!isAdmin} onClick={() => remove.mutate(s.id)} aria-label={`Delete ${s.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </ListTable>
        )}
      </ListStates>
      {isAdmin && <CallbackSecretPanel />}
    </div>
  );
}
