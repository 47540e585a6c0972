/** Knowledge: the workspace's knowledge bases, their files with status, drag-and-drop upload with a
 * progress bar per file (the upload, then its indexing as the server streams it over
 * /ws/knowledge-bases/<id>/), and a "try a query" box that shows the ranked chunks with their scores. */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { errorMessage } from "../../api/client";
import {
  applyKnowledgeEvent,
  createKnowledgeBase,
  followKnowledgeBase,
  deleteKnowledgeFile,
  listKnowledgeBases,
  listKnowledgeFiles,
  searchKnowledgeBase,
  uploadKnowledgeFile,
  type KnowledgeBase,
  type LiveFile,
  type SearchMode,
} from "../../api/knowledge";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";
import { useCan } from "../common/roles";
import "../screens.css";
import "./knowledge.css";

interface Upload {
  key: string;
  name: string;
  progress: number;
  error?: string;
  done?: boolean;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

const NOT_HIGHLIGHTED = new Set(["the", "and", "are", "was", "were", "for", "with", "what", "when", "how", "does", "did", "about", "this", "that"]);

function Highlighted({ text, query }: { text: string; query: string }) {
  const words = Array.from(new Set(query.toLowerCase().match(/\w{3,}/g) ?? [])).filter((w) => !NOT_HIGHLIGHTED.has(w));
  if (!words.length) return <>{text}</>;
  const pattern = new RegExp(`(${words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`, "gi");
  return (
    <>
      {text.split(pattern).map((part, i) => (i % 2 === 1 ? <mark key={i}>{part}</mark> : <span key={i}>{part}</span>))}
    </>
  );
}

function KnowledgeBaseDetail({ kb }: { kb: KnowledgeBase }) {
  const qc = useQueryClient();
  const canEdit = useCan("editor");
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [dragging, setDragging] = useState(false);
  const files = useQuery({ queryKey: ["knowledge-files", kb.id], queryFn: () => listKnowledgeFiles(kb.id) });
  const refresh = () => {
    void qc.invalidateQueries({ queryKey: ["knowledge-files", kb.id] });
    void qc.invalidateQueries({ queryKey: ["knowledge-bases"] });
  };
  // Indexing progress is pushed by the server; the file list is re-read when a file settles or appears.
  const [live, setLive] = useState<Record<string, LiveFile>>({});
  const known = useRef<Set<string>>(new Set());
  known.current = new Set((files.data ?? []).map((f) => f.id));
  useEffect(
    () =>
      followKnowledgeBase(kb.id, (e) => {
        setLive((l) => applyKnowledgeEvent(l, e));
        if (e.type === "snapshot" || e.status === "ready" || e.status === "failed" || !known.current.has(e.file_id)) {
          void qc.invalidateQueries({ queryKey: ["knowledge-files", kb.id] });
          void qc.invalidateQueries({ queryKey: ["knowledge-bases"] });
        }
      }),
    [kb.id, qc],
  );
  const remove = useMutation({ mutationFn: (fileId: string) => deleteKnowledgeFile(kb.id, fileId), onSettled: refresh });

  const start = (list: FileList | null) => {
    if (!list) return;
    for (const file of Array.from(list)) {
      const key = `${file.name}-${file.size}-${Date.now()}-${Math.random()}`;
      setUploads((u) => [...u, { key, name: file.name, progress: 0 }]);
      const set = (patch: Partial<Upload>) => setUploads((u) => u.map((x) => (x.key === key ? { ...x, ...patch } : x)));
      uploadKnowledgeFile(kb.id, file, (progress) => set({ progress }))
        .then(() => {
          set({ done: true, progress: 1 });
          refresh();
        })
        .catch((e) => set({ error: errorMessage(e) }));
    }
  };
  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    start(e.dataTransfer.files);
  };

  const [query, setQuery] = useState("");
  const [mode, setMode] = useState<SearchMode>("hybrid");
  const search = useMutation({ mutationFn: () => searchKnowledgeBase(kb.id, { query, mode, top_k: 10 }) });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (query.trim()) search.mutate();
  };

  return (
    <div className="kb-detail">
      <div className="kb-head">
        <h2>{kb.name}</h2>
        <span className="muted">
          {kb.embedding.model} · {kb.embedding.dimensions} dimensions · {kb.chunks.toLocaleString()} chunks
        </span>
      </div>
      {kb.description && <p className="muted">{kb.description}</p>}
      <p className="muted kb-usage" aria-label="Used by">
        {kb.used_by.length === 0 ? (
          "Not used by any workflow yet."
        ) : (
          <>
            Used by{" "}
            {kb.used_by.map((u, i) => (
              <span key={u.workflow_id}>
                {i > 0 && ", "}
                <Link to={`/workflows/${u.workflow_id}`}>{u.workflow_name}</Link> ({u.nodes.join(", ")})
              </span>
            ))}
          </>
        )}
      </p>
      {canEdit && (
        <label
          className={`dropzone${dragging ? " dropzone-active" : ""}`}
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
          aria-label="Upload files"
        >
          <strong>Drop files here</strong> or click to choose — PDF, DOCX, HTML, Markdown, text, CSV, JSON
          <input type="file" multiple hidden onChange={(e) => start(e.target.files)} data-testid="kb-file-input" />
        </label>
      )}
      {uploads.length > 0 && (
        <ul className="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.key} className="upload">
              <span className="upload-name">{u.name}</span>
              <progress max={1} value={u.progress} aria-label={`Upload of ${u.name}`} />
              <span className={u.error ? "field-error" : "muted"}>
                {u.error ?? (u.done ? "uploaded" : `${Math.round(u.progress * 100)}%`)}
              </span>
            </li>
          ))}
        </ul>
      )}
      {files.isLoading ? (
        <Loading label="Loading files" />
      ) : files.isError ? (
        <ErrorState error={files.error} retry={() => void files.refetch()} />
      ) : !files.data?.length ? (
        <Empty title="No files yet">Upload documents to search them here and from a File search node.</Empty>
      ) : (
        <table className="table" aria-label="Files">
          <thead>
            <tr>
              <th>File</th>
              <th>Status</th>
              <th className="num">Size</th>
              <th className="num">Chunks</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {files.data.map((f) => {
              const now = live[f.id];
              const status = now?.status ?? f.status;
              const error = now ? now.error : f.error;
              const indexing = status === "queued" || status === "processing";
              const fraction = now?.progress ?? 0;
              return (
              <tr key={f.id}>
                <td>{f.name}</td>
                <td>
                  <span className={`chip chip-${status}`}>{status}</span>
                  {indexing && (
                    <span className="kb-indexing">
                      <progress max={1} value={fraction} aria-label={`Indexing of ${f.name}`} />
                      <span className="muted">{Math.round(fraction * 100)}%</span>
                    </span>
                  )}
                  {error && status !== "ready" && <div className="field-error kb-file-error">{error}</div>}
                </td>
                <td className="num">{formatBytes(f.bytes)}</td>
                <td className="num">{f.chunks}</td>
                <td>
                  <button type="button" className="danger-link" hidden={!canEdit} onClick={() => remove.mutate(f.id)} aria-label={`Delete ${f.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <form className="form inline-form" onSubmit={submit} aria-label="Try a query">
        <label className="grow">
          Try a query
          <input value={query} onChange={(e) => setQuery(e.target.value)} placeholder="What does the handbook say about refunds?" />
        </label>
        <label>
          Mode
          <select aria-label="Mode" value={mode} onChange={(e) => setMode(e.target.value as SearchMode)}>
            <option value="hybrid">Hybrid</option>
            <option value="keyword">Keyword</option>
            <option value="vector">Vector</option>
          </select>
        </label>
        <button type="submit" className="primary" disabled={search.isPending || !query.trim()}>
          Search
        </button>
      </form>
      {search.isError && <p className="field-error">{errorMessage(search.error)}</p>}
      {search.data && (
        search.data.length === 0 ? (
          <p className="muted">No chunk matches this query.</p>
        ) : (
          <ol className="results" aria-label="Results">
            {search.data.map((r) => (
              <li key={r.chunk_id} className="result">
                <div className="result-head">
                  <strong>{r.file_name}</strong>
                  {typeof r.metadata.page === "number" && <span className="muted">page {r.metadata.page}</span>}
                  {typeof r.metadata.heading === "string" && <span className="muted">{r.metadata.heading}</span>}
                  <span className="result-score" title="Score">{r.score.toFixed(4)}</span>
                </div>
                <p className="result-text">
                  <Highlighted text={r.text.length > 600 ? `${r.text.slice(0, 600)}…` : r.text} query={query} />
                </p>
              </li>
            ))}
          </ol>
        )
      )}
    </div>
  );
}

export default function KnowledgePage() {
  const { current } = useWorkspace();
  const qc = useQueryClient();
  const canEdit = useCan("editor");
  const kbs = useQuery({
    queryKey: ["knowledge-bases", current?.slug],
    queryFn: listKnowledgeBases,
    enabled: !!current,
    // Counts move while files are indexed: poll until nothing is queued or processing.
    refetchInterval: (q) => ((q.state.data ?? []).some((kb) => kb.files.queued + kb.files.processing > 0) ? 1000 : false),
  });
  const [selected, setSelected] = useState<string | null>(null);
  const [name, setName] = useState("");
  const create = useMutation({
    mutationFn: () => createKnowledgeBase({ name }),
    onSuccess: (kb) => {
      setName("");
      setSelected(kb.id);
      void qc.invalidateQueries({ queryKey: ["knowledge-bases"] });
    },
  });
  const list = kbs.data ?? [];
  const active = list.find((k) => k.id === selected) ?? list[0];
  return (
    <section className="screen" aria-labelledby="knowledge-title">
      <div className="page-head">
        <h1 id="knowledge-title">Knowledge</h1>
        {canEdit && (
          <form
            className="row"
            aria-label="New knowledge base"
            onSubmit={(e) => {
              e.preventDefault();
              if (name.trim()) create.mutate();
            }}
          >
            <input aria-label="Knowledge base name" placeholder="New knowledge base" value={name} onChange={(e) => setName(e.target.value)} />
            <button type="submit" className="primary" disabled={create.isPending || !name.trim()}>
              Create
            </button>
          </form>
        )}
      </div>
      {create.isError && <p className="field-error">{errorMessage(create.error)}</p>}
      {kbs.isLoading ? (
        <Loading label="Loading knowledge bases" />
      ) : kbs.isError ? (
        <ErrorState error={kbs.error} retry={() => void kbs.refetch()} />
      ) : !list.length ? (
        <Empty title="No knowledge bases">A knowledge base holds documents that File search nodes and agents can search.</Empty>
      ) : (
        <div className="kb-layout">
          <ul className="kb-list" aria-label="Knowledge bases">
            {list.map((kb) => (
              <li key={kb.id}>
                <button type="button" className={`kb-item${kb.id === active?.id ? " kb-item-active" : ""}`} onClick={() => setSelected(kb.id)}>
                  <strong>{kb.name}</strong>
                  <span className="muted">
                    {kb.files.ready}/{kb.files.total} ready
                    {kb.files.failed > 0 && ` · ${kb.files.failed} failed`}
                  </span>
                </button>
              </li>
            ))}
          </ul>
          {active && <KnowledgeBaseDetail key={active.id} kb={active} />}
        </div>
      )}
    </section>
  );
}
