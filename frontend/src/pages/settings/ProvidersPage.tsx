/** Model providers (OpenAI-compatible endpoints): list, add with a key (stored as a secret), test the connection. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { errorMessage } from "../../api/client";
import type { ProviderInfo, ProviderTestResult } from "../../api/screens";
import { createProvider, deleteProvider, listProviders, testProvider, updateProvider } from "../../api/team";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";
import { useCan } from "../common/roles";
import "../screens.css";

export default function ProvidersPage() {
  const { current } = useWorkspace();
  const isAdmin = useCan("admin");
  const qc = useQueryClient();
  const providers = useQuery({ queryKey: ["providers", current?.slug], queryFn: listProviders, enabled: !!current });
  const refresh = () => void qc.invalidateQueries({ queryKey: ["providers"] });
  const [name, setName] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [models, setModels] = useState("");
  const create = useMutation({
    mutationFn: () =>
      createProvider({
        name: name.trim(),
        base_url: baseUrl.trim(),
        api_key: apiKey || undefined,
        models: models.split(",").map((m) => m.trim()).filter(Boolean),
      }),
    onSuccess: () => {
      setName("");
      setBaseUrl("");
      setApiKey("");
      setModels("");
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
        <form className="form inline-form" onSubmit={submit} aria-label="Add a model provider">
          <label>
            Provider name
            <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="OpenAI" />
          </label>
          <label>
            Base URL
            <input value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} placeholder="https://api.openai.com/v1 (empty = OpenAI)" />
          </label>
          <label>
            API key
            <input type="password" autoComplete="off" value={apiKey} onChange={(e) => setApiKey(e.target.value)} placeholder="stored encrypted, never shown" />
          </label>
          <label>
            Models
            <input value={models} onChange={(e) => setModels(e.target.value)} placeholder="gpt-4.1-mini, gpt-4.1" />
          </label>
          <button type="submit" className="primary" disabled={create.isPending}>
            Add provider
          </button>
        </form>
      )}
      {create.isError && <p className="field-error">{errorMessage(create.error)}</p>}
      {providers.isLoading ? (
        <Loading label="Loading providers" />
      ) : providers.isError ? (
        <ErrorState error={providers.error} retry={() => void providers.refetch()} />
      ) : !providers.data?.length ? (
        <Empty title="No model providers">Agent nodes call a model through a provider: OpenAI or any OpenAI-compatible endpoint.</Empty>
      ) : (
        <table className="table" aria-label="Model providers">
          <thead>
            <tr>
              <th>Name</th>
              <th>Endpoint</th>
              <th>Key</th>
              <th>Models</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {providers.data.map((p) => (
              <ProviderRow key={p.id} p={p} isAdmin={isAdmin} onChanged={refresh} />
            ))}
          </tbody>
        </table>
      )}
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
