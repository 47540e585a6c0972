/**
 * Feedback on a run's output or one of its steps (thumbs up or down with a comment), the feedback given so
 * far (approvals included), and "Add to dataset" (the run's output becomes the item's expected answer).
 */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../../api/client";
import { addRunToDataset, giveFeedback, listDatasets, listFeedback } from "../../api/evals";
import "../evals/evals.css";

export function FeedbackBox({ runId, workflowId, stepId, stepName, canEdit }: { runId: string; workflowId: string; stepId?: string; stepName?: string; canEdit: boolean }) {
  const qc = useQueryClient();
  const feedback = useQuery({ queryKey: ["feedback", runId], queryFn: () => listFeedback(runId) });
  const [comment, setComment] = useState("");
  const give = useMutation({
    mutationFn: (score: 1 | -1) => giveFeedback(runId, { score, comment: comment.trim() || undefined, step_id: stepId }),
    onSuccess: () => {
      setComment("");
      void qc.invalidateQueries({ queryKey: ["feedback", runId] });
    },
  });
  const mine = (feedback.data ?? []).filter((f) => (stepId ? f.step_id === stepId : f.step_id === null));
  const what = stepId ? `step ${stepName ?? ""}`.trim() : "the run's output";
  return (
    <div className="feedback-box" role="group" aria-label={stepId ? "Step feedback" : "Run feedback"}>
      {canEdit && (
        <>
          <button type="button" aria-label={`Thumbs up on ${what}`} onClick={() => give.mutate(1)} disabled={give.isPending}>
            👍 Good
          </button>
          <button type="button" aria-label={`Thumbs down on ${what}`} onClick={() => give.mutate(-1)} disabled={give.isPending}>
            👎 Bad
          </button>
          <input aria-label="Feedback comment" placeholder="Comment (optional)" value={comment} onChange={(e) => setComment(e.target.value)} />
        </>
      )}
      <span className="muted small-text" aria-label="Feedback so far">
        {mine.length === 0
          ? "No feedback yet"
          : `${mine.filter((f) => f.score === 1).length} good · ${mine.filter((f) => f.score === -1).length} bad`}
        {mine.length > 0 && mine[mine.length - 1].comment ? ` — “${mine[mine.length - 1].comment}”` : ""}
      </span>
      {give.isError && <p className="field-error" role="alert">{errorMessage(give.error)}</p>}
      {!stepId && canEdit && <AddToDataset runId={runId} workflowId={workflowId} />}
    </div>
  );
}

function AddToDataset({ runId, workflowId }: { runId: string; workflowId: string }) {
  const datasets = useQuery({ queryKey: ["datasets", workflowId], queryFn: () => listDatasets(workflowId) });
  const [dataset, setDataset] = useState("");
  const add = useMutation({ mutationFn: () => addRunToDataset(runId, dataset || datasets.data?.[0]?.id || "") });
  if (!datasets.data?.length) return null;
  return (
    <span className="inline-form">
      <select aria-label="Dataset" value={dataset} onChange={(e) => setDataset(e.target.value)}>
        {datasets.data.map((d) => (
          <option key={d.id} value={d.id}>
            {d.name}
          </option>
        ))}
      </select>
      <button type="button" onClick={() => add.mutate()} disabled={add.isPending}>
        Add to dataset
      </button>
      {add.isSuccess && <span role="status">Added.</span>}
      {add.isError && <span className="field-error" role="alert">{errorMessage(add.error)}</span>}
    </span>
  );
}
