/** A search step's query and ranked chunks in the run detail, each linked to its file, with the chunk's
 * whole text a click away (GET knowledge-bases/<id>/chunks/<cid>). */
import { useState } from "react";
import { api, errorMessage } from "../../api/client";
import type { components } from "../../api/schema";
import type { StepRecord } from "../../api/screens";
import { citationGroups, fileHref, type Citation } from "./citations";
import "../knowledge/knowledge.css";

function ChunkText({ kbId, c }: { kbId: string; c: Citation }) {
  const [full, setFull] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const open = () =>
    api<components["schemas"]["ChunkOut"]>("GET", `knowledge-bases/${kbId}/chunks/${c.chunk_id}`)
      .then((chunk) => setFull(chunk.text))
      .catch((e) => setError(errorMessage(e)));
  return (
    <>
      <p className="result-text">{full ?? c.text}</p>
      {full === null && (
        <button type="button" className="link-btn small-text" onClick={() => void open()} aria-label={`Show chunk ${c.chunk_id}`}>
          Show the whole chunk
        </button>
      )}
      {error && <span className="field-error">{error}</span>}
    </>
  );
}

export function Citations({ step }: { step: StepRecord }) {
  const groups = citationGroups(step);
  if (!groups.length) return null;
  return (
    <>
      {groups.map((g, i) => (
        <section key={i} className="citations" aria-label={`Citations: ${g.source}`}>
          <h3 className="citations-title">
            {g.source}: <q>{g.query}</q>
          </h3>
          {g.citations.length === 0 ? (
            <p className="muted">No chunk matched.</p>
          ) : (
            <ol className="results">
              {g.citations.map((c) => (
                <li key={c.chunk_id} className="result">
                  <div className="result-head">
                    <a href={fileHref(g.knowledgeBaseId, c)} target="_blank" rel="noreferrer">
                      {c.file_name}
                    </a>
                    {c.page !== null && <span className="muted">page {c.page}</span>}
                    {c.heading && <span className="muted">{c.heading}</span>}
                    <span className="muted small-text">chunk {c.chunk_id}</span>
                    <span className="result-score" title="Score">
                      {c.score.toFixed(4)}
                    </span>
                  </div>
                  <ChunkText kbId={g.knowledgeBaseId} c={c} />
                </li>
              ))}
            </ol>
          )}
        </section>
      ))}
    </>
  );
}
