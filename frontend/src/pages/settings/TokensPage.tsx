/** API tokens of the selected workspace: create (shown once), list, revoke. */
import { useMutation } from "@tanstack/react-query";
import { createToken, listTokens, revokeToken } from "../../api/accounts";
import { CreateForm } from "../../components/CreateForm";
import { ListTable } from "../../components/ListTable";
import { Empty, ListStates } from "../../components/States";
import { useCreateForm } from "../../components/useCreateForm";
import { useWorkspaceList } from "../../shell/workspace";

export default function TokensPage() {
  const { list, refresh } = useWorkspaceList("tokens", listTokens);
  const create = useCreateForm({ name: "" }, (f) => createToken(f.name), refresh);
  const revoke = useMutation({ mutationFn: revokeToken, onSettled: refresh });
  return (
    <div className="settings-panel">
      <CreateForm label="Create an API token" button="Create token" form={create}>
        <label>
          Token name
          <input required value={create.values.name} onChange={(e) => create.set("name", e.target.value)} placeholder="ci-deploy" />
        </label>
      </CreateForm>
      {create.mutation.data?.token && (
        <p className="notice" role="status">
          Copy this token now — it will not be shown again: <code>{create.mutation.data.token}</code>
        </p>
      )}
      <ListStates query={list} loading="Loading tokens" empty={<Empty title="No API tokens">Tokens let scripts call the API and trigger workflows.</Empty>}>
        {(tokens) => (
          <ListTable label="API tokens" columns={["Name", "Prefix", "Last used"]}>
            {tokens.map((t) => (
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
          </ListTable>
        )}
      </ListStates>
    </div>
  );
}
