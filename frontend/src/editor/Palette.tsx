/** Node palette grouped Core / Tools / Logic / Data with search: drag onto the canvas, or click to add after the selection. */
import { useMemo, useState } from "react";
import type { NodeType } from "../graph/format";
import type { NodeGroup } from "../graph/format";
import { nodeTypeList } from "../nodes/registry";
import { useEditor } from "./store";

export const DRAG_MIME = "application/x-trellis-node";

const GROUPS: { id: NodeGroup; label: string }[] = [
  { id: "core", label: "Core" },
  { id: "tools", label: "Tools" },
  { id: "logic", label: "Logic" },
  { id: "data", label: "Data" },
];

export function Palette({ onAdded }: { onAdded?: (id: string) => void }) {
  const [q, setQ] = useState("");
  const addNode = useEditor((s) => s.addNode);
  const inspectedId = useEditor((s) => s.inspectedId);
  const types = useMemo(() => {
    const query = q.trim().toLowerCase();
    return nodeTypeList().filter(
      (t) => !query || t.label.toLowerCase().includes(query) || t.description.toLowerCase().includes(query) || t.type.includes(query),
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
        const inGroup = types.filter((t) => t.group === g.id);
        if (!inGroup.length) return null;
        return (
          <section key={g.id} className="palette-group" aria-label={g.label}>
            <h3>{g.label}</h3>
            {inGroup.map((info) => {
              const t = info.type as NodeType;
              const unavailable = info.available === false ? (info.unavailable_reason ?? "Not available") : null;
              return (
              <button
                key={t}
                type="button"
                className={`palette-item group-${g.id}`}
                draggable={!unavailable}
                disabled={!!unavailable}
                data-node-type={t}
                title={unavailable ?? `${info.description} — drag onto the canvas, or click to add${inspectedId ? " after the selected node" : ""}`}
                aria-label={`Add ${info.label}`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_MIME, t);
                  e.dataTransfer.effectAllowed = "move";
                }}
                onClick={() => onAdded?.(addNode(t, { after: inspectedId }))}
              >
                <span className="palette-icon" aria-hidden>
                  {info.icon}
                </span>
                <span>
                  <span className="palette-label">{info.label}</span>
                  <span className="palette-desc">{unavailable ?? info.description}</span>
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
