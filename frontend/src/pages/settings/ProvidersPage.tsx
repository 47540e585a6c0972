/** Model providers (OpenAI-compatible endpoints): list, add with a key (stored as a secret), test the connection. */
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../../api/client";
import type { ProviderInfo, ProviderTestResult } from "../../api/screens";
import { createProvider, deleteProvider, listProviders, testProvider, updateProvider } from "../../api/team";
import { CreateForm } from "../../components/CreateForm";
import { ListTable } from "../../components/ListTable";
import { Empty, ListStates } from "../../components/States";
import { useCreateForm } from "../../components/useCreateForm";
import { useWorkspaceList } from "../../shell/workspace";
import { useCan } from "../common/roles";
import "../screens.css";

const NEW_PROVIDER = { name: "", baseUrl: "", apiKey: "", models: "" };

export default function ProvidersPage() {
  const isAdmin = useCan("admin");
  const { list, refresh } = useWorkspaceList("providers", listProviders);
  const create = useCreateForm(
    NEW_PROVIDER,
    (f) =>
      createProvider({
        name: f.name.trim(),
        base_url: f.baseUrl.trim(),
        api_key: f.apiKey || undefined,
        models: f.models.split(",").map((m) => m.trim()).filter(Boolean),
      }),
    refresh,
  );
  return (
    <div className="settings-panel">
      {isAdmin && (
        <CreateForm label="Add a model provider" button="Add provider" form={create}>
          <label>
            Provider name
            <input required value={create.values.name} onChange={(e) => create.set("name", e.target.value)} placeholder="OpenAI" />
          </label>
          <label>
            Base URL
            <input value={create.values.baseUrl} onChange={(e) => create.set("baseUrl", e.target.value)} placeholder="https://api.openai.com/v1 (empty = OpenAI)" />
          </label>
          <label>
            API key
            <input type="password" autoComplete="off" value={create.values.apiKey} onChange={(e) => create.set("apiKey", e.target.value)} placeholder="stored encrypted, never shown" />
          </label>
          <label>
            Models
            <input value={create.values.models} onChange={(e) => create.set("models", e.target.value)} placeholder="gpt-4.1-mini, gpt-4.1" />
          </label>
        </CreateForm>
      )}
      <ListStates
        query={list}
        loading="Loading providers"
        empty={<Empty title="No model providers">Agent nodes call a model through a provider: OpenAI or any OpenAI-compatible endpoint.</Empty>}
      >
        {(providers) => (
          <ListTable label="Model providers" columns={["Name", "Endpoint", "Key", "Models"]}>
            {providers.map((p) => (
              <ProviderRow key={p.id} p={p} isAdmin={isAdmin} onChanged={refresh} />
            ))}
          </ListTable>
        )}
      </ListStates>
    </div>
  );
}

function ProviderRow({ p, isAdmin, onChanged }: { p: ProviderInfo; isAdmin: boolean; onChanged: () => void }) {
  const [result, setResult] = useState<ProviderTestResult | null>(null);
  const test = useMutation({ mutationFn: () => testProvider(p.id), onSuccess: setResult });
  const makeDefault = useMutation({ mutationFn: () => updateProvider(p.id, { is_default: true }), onSettled: onChanged });
  const remove = useMutation({ mutationFn: () => deleteProvider(p.id), onSettled: onChanged });
  const error = test.error ?? makeDefault.error ?? remove.error;
  return (
    <tr>
      <td>
        <strong>{p.name}</strong> {p.is_default && <span className="chip chip-published">default</span>}
      </td>
      <td>
        <code>{p.base_url || "OpenAI"}</code> <span className="muted small-text">{p.api_style}</span>
      </td>
      <td>{p.has_api_key ? <span className="ok-text">stored</span> : <span className="muted">none</span>}</td>
      <td className="small-text">{p.models.join(", ") || <span className="muted">any</span>}</td>
      <td>
        {isAdmin && (
          <div className="actions">
            <button type="button" className="small" onClick={() => test.mutate()} disabled={test.isPending}>
              {test.isPending ? "Testing…" : "Test connection"}
            </button>
            {!p.is_default && (
              <button type="button" className="small" onClick={() => makeDefault.mutate()}>
                Make default
              </button>
            )}
            <button type="button" className="danger-link" onClick={() => window.confirm(`Delete ${p.name} and its stored key?`) && remove.mutate()}>
              Delete
            </button>
          </div>
        )}
        {result && (
          <p className={result.ok ? "ok-text small-text" : "field-error"} role="status">
            {result.ok ? "✓ " : "✗ "}
            {result.message}
          </p>
        )}
        {error && <p className="field-error">{errorMessage(error)}</p>}
      </td>
    </tr>
  );
}
