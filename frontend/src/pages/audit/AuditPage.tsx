/** The audit log: who created, edited, published, restored, ran and deleted what, newest first. */
import { useInfiniteQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router-dom";
import { getAudit } from "../../api/insights";
import type { AuditEntry } from "../../api/screens";
import { Empty, ErrorState, Loading } from "../../components/States";
import { useWorkspace } from "../../shell/workspace";
import { formatTime, relativeTime } from "../common/status";
import "../screens.css";

const VERBS: Record<string, string> = {
  created: "created",
  updated: "edited",
  renamed: "renamed",
  draft_saved: "edited the draft of",
  published: "published",
  restored: "restored a version of",
  version_published: "changed the published version of",
  archived: "archived",
  unarchived: "unarchived",
  deleted: "deleted",
  duplicated: "duplicated",
  imported: "imported",
  run: "ran",
  started: "ran",
};

/** "workflow.published" → "published"; unknown actions are shown as they are. */
export function describeAction(action: string): string {
  const verb = action.split(".").slice(1).join(".") || action;
  return VERBS[verb] ?? verb.replace(/_/g, " ");
}

function detail(e: AuditEntry): string {
  const d = e.data ?? {};
  const bits: string[] = [];
  if (typeof d.number === "number" || typeof d.version === "number") bits.push(`v${d.number ?? d.version}`);
  if (typeof d.note === "string" && d.note) bits.push(`“${d.note}”`);
  if (typeof d.name === "string" && e.target_name !== d.name) bits.push(`name: ${d.name}`);
  return bits.join(" · ");
}

export default function AuditPage() {
  const { current } = useWorkspace();
  const [filter, setFilter] = useState("");
  const audit = useInfiniteQuery({
    queryKey: ["audit", current?.slug],
    queryFn: ({ pageParam }) => getAudit(pageParam),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next_before,
    enabled: !!current,
  });
  const rows = (audit.data?.pages.flatMap((p) => p.results) ?? []).filter(
    (e) => !filter || `${e.action} ${e.actor ?? ""} ${e.target_name ?? ""}`.toLowerCase().includes(filter.toLowerCase()),
  );
  const source = audit.data?.pages[0]?.source;
  return (
    <section className="screen" aria-labelledby="audit-title">
      <div className="page-head">
        <h1 id="audit-title">Audit log</h1>
        <input aria-label="Filter the audit log" placeholder="Filter by action, person or workflow" value={filter} onChange={(e) => setFilter(e.target.value)} style={{ width: 300 }} />
      </div>
      {audit.isLoading ? (
        <Loading label="Loading the audit log" />
      ) : audit.isError ? (
        <ErrorState error={audit.error} retry={() => void audit.refetch()} />
      ) : !rows.length ? (
        <Empty title="Nothing recorded yet">Creating, editing, publishing, restoring, running and deleting workflows is recorded here.</Empty>
      ) : (
        <>
          <table className="table" aria-label="Audit log">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>What</th>
                <th>Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e, i) => (
                <tr key={e.id ?? `${e.created_at}-${i}`}>
                  <td title={formatTime(e.created_at)}>{relativeTime(e.created_at)}</td>
                  <td>{e.actor ?? <span className="muted">system</span>}</td>
                  <td>
                    {describeAction(e.action)}{" "}
                    {e.target_type === "workflow" && e.target_id ? (
                      <Link to={`/workflows/${e.target_id}/versions`}>{e.target_name ?? "a deleted workflow"}</Link>
                    ) : (
                      <span>
                        {e.target_type} {e.target_name ?? ""}
                      </span>
                    )}{" "}
                    <code className="muted small-text">{e.action}</code>
                  </td>
                  <td className="small-text">{detail(e)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {audit.hasNextPage && (
            <button type="button" onClick={() => void audit.fetchNextPage()} disabled={audit.isFetchingNextPage}>
              Load older entries
            </button>
          )}
          {source === "workflows" && <p className="source-note">Collected from each workflow's trail.</p>}
        </>
      )}
    </section>
  );
}
