/** Shown when the draft changed elsewhere: what differs, then reload theirs or overwrite with mine. */
import type { Draft } from "../api/types";
import { Dialog } from "../components/Dialog";
import { useEditorStore } from "./store";

/** JSON with sorted keys: the server may store objects with another key order. */
function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value ?? null);
}

function differences(mine: Draft["graph"], theirs: Draft["graph"]) {
  const a = new Map(mine.nodes.map((n) => [n.id, n]));
  const b = new Map(theirs.nodes.map((n) => [n.id, n]));
  const onlyMine = [...a.keys()].filter((id) => !b.has(id));
  const onlyTheirs = [...b.keys()].filter((id) => !a.has(id));
  const changed = [...a.keys()].filter(
    (id) => b.has(id) && stable({ ...a.get(id), position: 0 }) !== stable({ ...b.get(id), position: 0 }),
  );
  const edgeKey = (e: Draft["graph"]["edges"][number]) => `${e.source}:${e.source_port ?? "out"}>${e.target}`;
  const ea = new Set(mine.edges.map(edgeKey));
  const eb = new Set(theirs.edges.map(edgeKey));
  const edgesDiffer = ea.size !== eb.size || [...ea].some((k) => !eb.has(k));
  return { onlyMine, onlyTheirs, changed, edgesDiffer };
}

export function ConflictDialog({ theirs, onResolve }: { theirs: Draft | null; onResolve: (c: "theirs" | "mine") => void }) {
  const store = useEditorStore();
  if (!theirs) return null;
  const d = differences(store.getState().toGraph(), theirs.graph);
  return (
    <Dialog open title="This workflow was changed elsewhere" onClose={() => undefined}>
      <p>
        Someone (or another tab) saved a newer draft (revision {theirs.revision}). Your changes are kept here until you choose.
      </p>
      <ul className="diff-list">
        {d.onlyMine.length > 0 && <li>Only in yours: {d.onlyMine.join(", ")}</li>}
        {d.onlyTheirs.length > 0 && <li>Only in theirs: {d.onlyTheirs.join(", ")}</li>}
        {d.changed.length > 0 && <li>Configured differently: {d.changed.join(", ")}</li>}
        {d.edgesDiffer && <li>Connections differ</li>}
        {!d.onlyMine.length && !d.onlyTheirs.length && !d.changed.length && !d.edgesDiffer && <li>Only positions differ.</li>}
      </ul>
      <div className="actions">
        <button type="button" onClick={() => onResolve("theirs")}>
          Reload theirs (discard mine)
        </button>
        <button type="button" className="primary" onClick={() => onResolve("mine")}>
          Overwrite with mine
        </button>
      </div>
    </Dialog>
  );
}
