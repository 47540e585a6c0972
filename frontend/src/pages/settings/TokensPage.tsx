/** API tokens of the selected workspace: create (shown once), list, revoke. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { createToken, listTokens, revokeToken } from "../../api/accounts";
import { errorMessage } from "../../api/client";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";

export default function TokensPage() {
  const { current } = useWorkspace();
  const qc = useQueryClient();
  const tokens = useQuery({ queryKey: ["tokens", current?.slug], queryFn: listTokens, enabled: !!current });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["tokens"] });
  const [name, setName] = useState("");
  const create = useMutation({ mutationFn: () => createToken(name), onSuccess: () => { setName(""); refresh(); } });
  const revoke = useMutation({ mutationFn: revokeToken, onSettled: refresh });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <div className="settings-panel">
      <form className="form inline-form" onSubmit={submit} aria-label="Create an API token">
        <label>
          Token name
          <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="ci-deploy" />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create token
        </button>
      </form>
      {create.isError && <p className="field-error">{errorMessage(create.error)}</p>}
      {create.data?.token && (
        <p className="notice" role="status">
          Copy this token now — it will not be shown again: <code>{create.data.token}</code>
        </p>
      )}
      {tokens.isLoading ? (
        <Loading label="Loading tokens" />
      ) : tokens.isError ? (
        <ErrorState error={tokens.error} retry={() => void tokens.refetch()} />
      ) : !tokens.data?.length ? (
        <Empty title="No API tokens">Tokens let scripts call the API and trigger workflows.</Empty>
      ) : (
        <table className="table" aria-label="API tokens">
          <thead>
            <tr>
              <th>Name</th>
              <th>Prefix</th>
              <th>Last used</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.data.map((t) => (
              <tr key={String(t.id)}>
                <td>{t.name}</td>
                <td><code>{t.prefix ?? "trl_…"}</code></td>
                <td className="muted">{t.last_used_at ? new Date(t.last_used_at).toLocaleString() : "never"}</td>
                <td>
                  <button type="button" className="danger-link" onClick={() => revoke.mutate(t.id)} aria-label={`Revoke ${t.name}`}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
