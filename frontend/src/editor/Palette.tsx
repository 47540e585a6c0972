/** Node palette grouped Core / Tools / Logic / Data with search: drag onto the canvas, or click to add after the selection. */
import { useMemo, useState } from "react";
import type { NodeType } from "../graph/format";
import { GROUPS, NODE_META } from "../nodes/catalog";
import { useNodeTypeCatalog } from "./nodeTypesApi";
import { useEditor } from "./store";

export const DRAG_MIME = "application/x-trellis-node";

export function Palette({ onAdded }: { onAdded?: (id: string) => void }) {
  const [q, setQ] = useState("");
  const addNode = useEditor((s) => s.addNode);
  const inspectedId = useEditor((s) => s.inspectedId);
  const catalog = useNodeTypeCatalog();
  const types = useMemo(() => {
    const query = q.trim().toLowerCase();
    return (Object.keys(NODE_META) as NodeType[]).filter(
      (t) => !query || NODE_META[t].label.toLowerCase().includes(query) || NODE_META[t].description.toLowerCase().includes(query) || t.includes(query),
    );
  }, [q]);
  return (
    <aside className="palette" aria-label="Node palette">
      <input
        type="search"
        className="palette-search"
        aria-label="Search nodes"
        placeholder="Search nodes…"
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      {GROUPS.map((g) => {
        const inGroup = types.filter((t) => NODE_META[t].group === g.id);
        if (!inGroup.length) return null;
        return (
          <section key={g.id} className="palette-group" aria-label={g.label}>
            <h3>{g.label}</h3>
            {inGroup.map((t) => {
              const unavailable = catalog[t]?.available === false ? (catalog[t]?.unavailable_reason ?? "Not available") : null;
              return (
              <button
                key={t}
                type="button"
                className={`palette-item group-${g.id}`}
                draggable={!unavailable}
                disabled={!!unavailable}
                data-node-type={t}
                title={unavailable ?? `${NODE_META[t].description} — drag onto the canvas, or click to add${inspectedId ? " after the selected node" : ""}`}
                aria-label={`Add ${NODE_META[t].label}`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_MIME, t);
                  e.dataTransfer.effectAllowed = "move";
                }}
                onClick={() => onAdded?.(addNode(t, { after: inspectedId }))}
              >
                <span className="palette-icon" aria-hidden>
                  {NODE_META[t].icon}
                </span>
                <span>
                  <span className="palette-label">{NODE_META[t].label}</span>
                  <span className="palette-desc">{unavailable ?? NODE_META[t].description}</span>
                </span>
              </button>
              );
            })}
          </section>
        );
      })}
      {!types.length && <p className="muted small-text">No node matches “{q}”.</p>}
    </aside>
  );
}
