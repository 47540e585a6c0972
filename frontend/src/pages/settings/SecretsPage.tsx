/** Workspace secrets: names only; values are write-only. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { deleteSecret, listSecrets, setSecret } from "../../api/accounts";
import { errorMessage } from "../../api/client";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";
import { useCan } from "../common/roles";
import CallbackSecretPanel from "./CallbackSecretPanel";

export default function SecretsPage() {
  const { current } = useWorkspace();
  const qc = useQueryClient();
  // Editors may see the names (to pick one in a node); only admins add, replace or delete.
  const canRead = useCan("editor");
  const isAdmin = useCan("admin");
  const secrets = useQuery({ queryKey: ["secrets", current?.slug], queryFn: listSecrets, enabled: !!current && canRead });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["secrets"] });
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const save = useMutation({
    mutationFn: () => setSecret(name, value),
    onSuccess: () => {
      setName("");
      setValue("");
      refresh();
    },
  });
  const remove = useMutation({ mutationFn: deleteSecret, onSettled: refresh });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  if (!canRead) return <Empty title="Secrets are for editors and admins">Ask an admin of this workspace if a workflow needs a new key.</Empty>;
  return (
    <div className="settings-panel">
      {isAdmin && (
      <form className="form inline-form" onSubmit={submit} aria-label="Add a secret">
        <label>
          Name
          <input required value={name} onChange={(e) => setName(e.target.value.toUpperCase())} placeholder="OPENAI_API_KEY" />
        </label>
        <label>
          Value
          <input required type="password" autoComplete="off" value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        <button type="submit" className="primary" disabled={save.isPending}>
          Save secret
        </button>
      </form>
      )}
      {(save.isError || remove.isError) && <p className="field-error">{errorMessage(save.error ?? remove.error)}</p>}
      {secrets.isLoading ? (
        <Loading label="Loading secrets" />
      ) : secrets.isError ? (
        <ErrorState error={secrets.error} retry={() => void secrets.refetch()} />
      ) : !secrets.data?.length ? (
        <Empty title="No secrets">Secrets hold API keys for HTTP, MCP and model providers. Values are never shown again.</Empty>
      ) : (
        <table className="table" aria-label="Secrets">
          <thead>
            <tr>
              <th>Name</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {secrets.data.map((s) => (
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
          </tbody>
        </table>
      )}
      {isAdmin && <CallbackSecretPanel />}
    </div>
  );
}
