"""Writes for chat: deployments (editors), visitors, threads and messages (the public page), and the hook
that stores a chat run's answer in the same transaction as the run's end."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Membership
from chat.models import Access, ChatDeployment, ChatMessage, ChatThread, ChatVisitor, MessageStatus
from chat.selectors import is_uuid
from runs.models import Step, StepStatus
from runs.replies import reply_text
from runs.services import run_approve, run_start
from runs.triggers.ratelimit import hit
from trellis.errors import ApplicationError

log = logging.getLogger("trellis.chat")

HISTORY_MESSAGES = 20
FAILED_REPLY = "Sorry, something went wrong while answering. Please try again."
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
EDITABLE = (
    "access",
    "allowed_origins",
    "title",
    "greeting",
    "starter_prompts",
    "theme",
    "enabled",
    "visitor_rate_limit_per_minute",
    "rate_limit_per_minute",
    "max_message_chars",
    "max_messages_per_thread",
    "max_tokens_per_thread",
)


# --- deployments -------------------------------------------------------------------------------------------


def normalize_origin(value: str) -> str:
    """`https://Shop.example.com:443/x` → `https://shop.example.com`; refuses anything but an http(s) origin."""
    if value == "*":
        return value
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ApplicationError(
            "validation_error",
            f"{value!r} is not an origin like https://shop.example.com.",
            [{"field": "allowed_origins", "message": "Not an http(s) origin."}],
        )
    if (parts.path not in ("", "/")) or parts.query or parts.fragment:
        raise ApplicationError(
            "validation_error",
            f"{value!r} is not an origin: leave out the path.",
            [{"field": "allowed_origins", "message": "An origin has no path."}],
        )
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{host}{port}"


def _clean(fields: dict) -> dict:
    out = dict(fields)
    if "allowed_origins" in out:
        origins = out["allowed_origins"] or []
        out["allowed_origins"] = list(dict.fromkeys(normalize_origin(o) for o in origins))
    if "theme" in out:
        theme = out["theme"] or {}
        color = theme.get("color")
        if color is not None and not (isinstance(color, str) and _COLOR.match(color)):
            raise ApplicationError(
                "validation_error",
                "theme.color must be a colour like #2563eb.",
                [{"field": "theme.color", "message": "Not a #rrggbb colour."}],
            )
        out["theme"] = {"color": color} if color else {}
    if "starter_prompts" in out:
        out["starter_prompts"] = [p.strip() for p in out["starter_prompts"] or [] if p.strip()]
    return out


def deployment_create(*, workflow, by, title: str, **fields) -> ChatDeployment:
    if workflow.archived_at is not None:
        raise ApplicationError("workflow_archived", "This workflow is archived.", status=422)
    if workflow.published_version_id is None:
        raise ApplicationError("not_published", "Publish this workflow before deploying it as a chat.", status=422)
    fields = _clean({k: v for k, v in fields.items() if k in EDITABLE})
    return ChatDeployment.objects.create(
        workspace_id=workflow.workspace_id, workflow=workflow, title=title, created_by=by, **fields
    )


def deployment_update(*, deployment: ChatDeployment, **fields) -> ChatDeployment:
    fields = _clean({k: v for k, v in fields.items() if k in EDITABLE})
    for name, value in fields.items():
        setattr(deployment, name, value)
    if fields:
        deployment.save(update_fields=[*fields, "updated_at"])
    return deployment


def deployment_delete(*, deployment: ChatDeployment) -> None:
    """Removes the deployment with its visitors, threads and messages; the runs stay in the run list."""
    deployment.delete()


# --- visitors and threads -----------------------------------------------------------------------------------


def visitor_create(*, deployment: ChatDeployment, user=None) -> ChatVisitor:
    if user is not None:
        visitor, _ = ChatVisitor.objects.get_or_create(deployment=deployment, user=user)
        return visitor
    return ChatVisitor.objects.create(deployment=deployment)


def thread_create(*, deployment: ChatDeployment, visitor: ChatVisitor) -> ChatThread:
    return ChatThread.objects.create(deployment=deployment, visitor=visitor)


# --- messages ---------------------------------------------------------------------------------------------


def _rate_limit(deployment: ChatDeployment, visitor: ChatVisitor) -> None:
    for bucket, limit, who in (
        (f"chat:visitor:{visitor.pk}", deployment.visitor_rate_limit_per_minute, "you"),
        (f"chat:deployment:{deployment.pk}", deployment.rate_limit_per_minute, "this chat"),
    ):
        if not limit:
            continue
        retry = hit(bucket, limit=limit)
        if retry is not None:
            raise ApplicationError(
                "rate_limited",
                f"Too many messages from {who} right now. Please wait {retry} s and try again.",
                [{"retry_after": retry}],
                status=429,
                headers={"Retry-After": str(retry)},
            )


def _check_message(deployment: ChatDeployment, thread: ChatThread, text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ApplicationError(
            "validation_error", "Write a message first.", [{"field": "message", "message": "Empty."}]
        )
    text = text.strip()
    if len(text) > deployment.max_message_chars:
        raise ApplicationError(
            "message_too_long",
            f"Messages can be at most {deployment.max_message_chars} characters (this one has {len(text)}).",
            [{"field": "message", "max_chars": deployment.max_message_chars}],
            status=413,
        )
    if "\x00" in text:
        raise ApplicationError("validation_error", "The message contains a NUL character.", [{"field": "message"}])
    cap = deployment.max_messages_per_thread
    if cap is not None and thread.message_count >= cap:
        raise ApplicationError(
            "conversation_limit",
            "This conversation has reached its length limit. Start a new conversation to go on.",
            status=429,
        )
    if deployment.max_tokens_per_thread is not None and thread.tokens_used >= deployment.max_tokens_per_thread:
        raise ApplicationError(
            "conversation_limit",
            "This conversation has used up its budget. Start a new conversation to go on.",
            status=429,
        )
    if thread.messages.filter(role="assistant", status__in=[MessageStatus.PENDING, MessageStatus.WAITING]).exists():
        raise ApplicationError(
            "answer_pending", "Wait for the answer to your last message before sending another.", status=409
        )
    return text


def _history(thread: ChatThread) -> list[dict]:
    rows = list(
        thread.messages.filter(status=MessageStatus.DONE)
        .order_by("-created_at", "-id")
        .values_list("role", "content")[:HISTORY_MESSAGES]
    )
    return [{"role": role, "content": content} for role, content in reversed(rows)]


def _start_schema(graph: dict) -> dict:
    for node in graph.get("nodes", []):
        if node.get("type") == "start":
            schema = (node.get("config") or {}).get("input_schema")
            return schema if isinstance(schema, dict) else {}
    return {}


def chat_input(graph: dict, *, message: str, history: list[dict], thread_id: str) -> dict:
    """The chat input convention `{message, history, thread_id}`, minus keys a closed start schema refuses."""
    full = {"message": message, "history": history, "thread_id": thread_id}
    schema = _start_schema(graph)
    if schema.get("additionalProperties", True) is False:
        declared = set((schema.get("properties") or {}).keys())
        return {k: v for k, v in full.items() if k in declared}
    return full


def message_send(
    *,
    deployment: ChatDeployment,
    visitor: ChatVisitor,
    thread: ChatThread,
    text,
    before_dispatch: Callable | None = None,
) -> tuple[ChatMessage, ChatMessage]:
    """Stores the visitor's message and a pending answer, and starts a run of the published version
    (`trigger.type = "chat"`). `before_dispatch(run)` is where a streaming listener joins the run."""

    text = _check_message(deployment, thread, text)
    _rate_limit(deployment, visitor)
    workflow = deployment.workflow
    if workflow.published_version_id is None or workflow.archived_at is not None:
        raise ApplicationError("chat_unavailable", "This chat is not available right now.", status=503)
    with transaction.atomic():
        thread = ChatThread.objects.select_for_update().get(pk=thread.pk)
        history = _history(thread)
        question = ChatMessage.objects.create(thread=thread, role="user", content=text)
        run = run_start(
            workflow=workflow,
            version="published",
            input=chat_input(workflow.published_version.graph, message=text, history=history, thread_id=str(thread.pk)),
            trigger={
                "type": "chat",
                "deployment_id": str(deployment.pk),
                "thread_id": str(thread.pk),
                "headers": {},
                "query": {},
            },
            by=visitor.user,
            before_dispatch=before_dispatch,
            caller_waits=True,  # the visitor watches the answer being written
        )
        answer = ChatMessage.objects.create(thread=thread, role="assistant", status=MessageStatus.PENDING, run=run)
        ChatThread.objects.filter(pk=thread.pk).update(
            message_count=F("message_count") + 1,
            title=thread.title or text[:120],
            updated_at=timezone.now(),
        )
    return question, answer


def approval_decide(*, message: ChatMessage, step_id, decision: str, before_dispatch: Callable | None = None):
    """The visitor decides an approval addressed to them (`approvers: "visitor"`); staff approvals are
    refused here and stay in the run view."""

    step = (
        Step.objects.filter(run_id=message.run_id, pk=step_id, status=StepStatus.WAITING).first()
        if message.run_id and is_uuid(step_id)
        else None
    )
    if step is None or (step.wait or {}).get("approvers") != "visitor":
        raise ApplicationError("not_waiting", "Nothing here is waiting for your decision.", status=404)
    if before_dispatch is not None:
        before_dispatch(message.run)
    run_approve(run=message.run, step_id=step.pk, decision=decision, comment="", by=None, role=None)


# --- the run's end -----------------------------------------------------------------------------------------


def reply_of(output) -> str:
    """The answer of a chat run: its text output, its `reply` field, or else a single string field / JSON."""

    if isinstance(output, dict) and isinstance(output.get("reply"), str):
        return output["reply"]
    return reply_text(output)


def citations_of(output) -> list[dict]:
    """File-search citations in the output (`citations` or `sources`: [{title|file_name, url?, text?}])."""
    if not isinstance(output, dict):
        return []
    items = output.get("citations") or output.get("sources") or []
    if not isinstance(items, list):
        return []
    out = []
    for item in items[:20]:
        if not isinstance(item, dict):
            continue
        title = item.get("title") or item.get("file_name") or item.get("name") or ""
        url = item.get("url") if isinstance(item.get("url"), str) else ""
        if url and urlsplit(url).scheme not in ("http", "https"):
            url = ""
        text = item.get("text") or item.get("snippet") or ""
        out.append({"title": str(title)[:200], "url": url[:2000], "text": str(text)[:500]})
    return out


def is_chat_run(run) -> bool:
    return (run.trigger or {}).get("type") == "chat"


def on_run_finishing(run) -> None:
    """In the transaction that ends a chat run (`is_chat_run`): its answer is stored with it, so it cannot be
    lost."""
    with transaction.atomic():
        message = ChatMessage.objects.filter(run_id=run.pk).select_related("thread").first()
        if message is None:
            return
        if run.status == "succeeded":
            message.content, message.status = reply_of(run.output), MessageStatus.DONE
            message.citations = citations_of(run.output)
        else:
            message.content, message.status = FAILED_REPLY, MessageStatus.FAILED
        message.save(update_fields=["content", "status", "citations"])
        usage = run.usage or {}
        tokens = int(usage.get("input_tokens") or 0) + int(usage.get("output_tokens") or 0)
        ChatThread.objects.filter(pk=message.thread_id).update(
            tokens_used=F("tokens_used") + tokens, updated_at=timezone.now()
        )


def visitor_may_use(deployment: ChatDeployment, user) -> bool:
    """Members access: a signed-in member of the deployment's workspace."""
    if deployment.access != Access.MEMBERS:
        return True

    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(workspace_id=deployment.workspace_id, user=user).exists()


def public_url(deployment: ChatDeployment) -> str:
    return f"{settings.PUBLIC_URL}/chat/{deployment.public_id}"
