"""Finding a webhook's trigger, workflow and published version on every call, cheaply.

The ORM's select_related query costs about a third of a webhook's CPU (building the SQL, not running
it). On PostgreSQL the same row is read with one prepared statement instead, and published
versions — immutable by design — are kept in a small per-process cache, so every call still sees the
trigger's and workflow's current state (enabled, secrets, published version) with no staleness.

The grouped ingest (runs/triggers/ingest.py) goes one step further: it keeps whole triggers per process
(`cached_webhook_trigger`) with a fingerprint of their rows (`guard_sql`), and its insert statement
stores a run only where the fingerprint still matches, so a changed trigger is never used stale."""

from functools import lru_cache

from django.db import connection

from builder.selectors import version_cached
from runs.triggers.models import Trigger, TriggerKind
from trellis.db import server_side_cursor

_TRIGGER_FIELDS = (
    "id",
    "workspace_id",
    "workflow_id",
    "kind",
    "name",
    "enabled",
    "key",
    "auth_mode",
    "secret_ciphertext",
    "previous_secret_ciphertext",
    "previous_secret_expires_at",
    "response_mode",
    "sync_timeout_s",
    "rate_limit_per_minute",
    "callback_url",
)
_WORKFLOW_FIELDS = ("workspace_id", "name", "archived_at", "published_version_id")


def guard_sql(t: str = "t", w: str = "w") -> str:
    """An md5 of the trigger's whole row and the workflow columns a webhook depends on (aliases `t`, `w`):
    any write to either — enable, rotate, re-publish, archive — changes it."""
    from builder.models import Workflow

    columns = ", ".join(f'{w}."{Workflow._meta.get_field(f).column}"' for f in _WORKFLOW_FIELDS)
    return f"md5({t}::text || row({columns})::text)"


@lru_cache(maxsize=1)
def _sql() -> str:
    from builder.models import Workflow

    t, w = Trigger._meta, Workflow._meta
    columns = [f't."{t.get_field(f).column}"' for f in _TRIGGER_FIELDS]
    columns += [f'w."{w.get_field(f).column}"' for f in _WORKFLOW_FIELDS]
    columns.append(guard_sql())
    return (
        f'SELECT {", ".join(columns)} FROM "{t.db_table}" t '
        f'JOIN "{w.db_table}" w ON w."{w.pk.column}" = t."{t.get_field("workflow").column}" '
        f'WHERE t."{t.get_field("key").column}" = %s AND t."{t.get_field("kind").column}" = %s'
    )


def _loaded(instance):
    instance._state.adding = False
    instance._state.db = "default"
    return instance


def webhook_trigger(key: str, *, test: bool) -> Trigger | None:
    """The enabled-or-not webhook trigger for `key` with `.workflow` (and its published version), or None.
    On PostgreSQL (not for the test URL) it carries `.guard`, the fingerprint of its rows (`guard_sql`)."""
    if test or connection.vendor != "postgresql":
        # The test URL runs the draft (a large, mutable graph): load it the plain way.
        found = Trigger.objects.select_related("workflow", "workflow__published_version").filter(
            key=key, kind=TriggerKind.WEBHOOK
        )
        return found.first() if test else found.defer("workflow__draft_graph").first()
    from builder.models import Workflow

    with server_side_cursor(connection) as cursor:
        cursor.execute(_sql(), [key, TriggerKind.WEBHOOK.value], prepare=True)
        row = cursor.fetchone()
    if row is None:
        return None
    values = dict(zip(_TRIGGER_FIELDS, row[: len(_TRIGGER_FIELDS)], strict=True))
    trigger = _loaded(Trigger(**values))
    workflow_values = dict(zip(_WORKFLOW_FIELDS, row[len(_TRIGGER_FIELDS) : -1], strict=True))
    workflow = _loaded(Workflow(id=values["workflow_id"], **workflow_values))
    if workflow.published_version_id is not None:
        workflow.published_version = version_cached(workflow.published_version_id, workflow.pk)
    trigger.workflow = workflow
    trigger.guard = row[-1]
    return trigger


_CACHE_SIZE = 1024
_cached: dict[str, Trigger] = {}


def cached_webhook_trigger(key: str) -> Trigger | None:
    """`webhook_trigger(key)` kept per process (PostgreSQL only). Only for a call whose run is stored with the
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
