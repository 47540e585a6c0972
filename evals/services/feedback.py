"""Feedback on runs and steps: thumbs up or down with a comment."""

from __future__ import annotations

import uuid

from django.db import transaction

from evals.models import Feedback
from runs.models import Run, Step
from trellis.errors import ApplicationError

MAX_COMMENT = 5000


@transaction.atomic
def feedback_create(*, run: Run, score, comment: str = "", step_id=None, by=None) -> Feedback:
    if isinstance(score, bool) or score not in (1, -1):
        raise ApplicationError(
            "validation_error", "score must be 1 (thumbs up) or -1 (thumbs down).", [{"field": "score"}]
        )
    if comment is None:
        comment = ""
    if not isinstance(comment, str) or len(comment) > MAX_COMMENT:
        raise ApplicationError(
            "validation_error", f"comment is text of at most {MAX_COMMENT} characters.", [{"field": "comment"}]
        )
    step = None
    if step_id not in (None, ""):
        step = Step.objects.filter(run=run, pk=step_id).first() if _is_uuid(step_id) else None
        if step is None:
            raise ApplicationError("step_not_found", "This run has no such step.", [{"field": "step_id"}], status=404)
    return Feedback.objects.create(
        workspace_id=run.workspace_id,
        run=run,
        step=step,
        score=score,
        comment=comment.strip(),
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
