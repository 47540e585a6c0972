"""Finding a webhook's trigger, workflow and published version on every call, cheaply.

The ORM's select_related query costs about a third of a webhook's CPU (building the SQL, not running
it). The same row is read with one hand-written statement instead (runs/persistence/webhooks.py),
and published versions — immutable by design — are kept in a small per-process cache, so every call still sees the
trigger's and workflow's current state (enabled, secrets, published version) with no staleness.

The grouped ingest (runs/triggers/ingest.py) goes one step further: it keeps whole triggers per process
(`cached_webhook_trigger`) with a fingerprint of their rows (`guard`), and its insert statement
stores a run only where the fingerprint still matches, so a changed trigger is never used stale."""

from builder.selectors import version_cached
from runs.persistence.webhooks import read_webhook_trigger
from runs.triggers.models import Trigger, TriggerKind


def webhook_trigger(key: str, *, test: bool) -> Trigger | None:
    """The enabled-or-not webhook trigger for `key` with `.workflow` (and its published version), or None.
    Not for the test URL, it carries `.guard`: the fingerprint of its rows (runs/persistence/webhooks.py)."""
    if test:
        # The test URL runs the draft (a large, mutable graph): load it the plain way.
        return (
            Trigger.objects.select_related("workflow", "workflow__published_version")
            .filter(key=key, kind=TriggerKind.WEBHOOK)
            .first()
        )
    found = read_webhook_trigger(key)
    if found is None:
        return None
    trigger, workflow, guard = found
    if workflow.published_version_id is not None:
        workflow.published_version = version_cached(workflow.published_version_id, workflow.pk)
    trigger.workflow = workflow
    trigger.guard = guard
    return trigger


_CACHE_SIZE = 1024
_cached: dict[str, Trigger] = {}


def cached_webhook_trigger(key: str) -> Trigger | None:
    """`webhook_trigger(key)` kept per process. Only for a call whose run is stored with the
    guard (ingest.py); anything else that depends on the trigger's current state must `forget` it first."""
    trigger = _cached.get(key)
    if trigger is None:
        trigger = webhook_trigger(key, test=False)
        if trigger is None:
            return None
        if len(_cached) >= _CACHE_SIZE:
            _cached.clear()  # a crude bound: a miss costs one lookup
        _cached[key] = trigger
    return trigger


def forget(key: str) -> None:
    _cached.pop(key, None)
