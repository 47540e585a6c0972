"""Reads for chat: deployments for editors, a visitor's own threads, and messages as the page shows them."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from chat.markdown import render_markdown
from chat.models import ChatDeployment, ChatMessage, ChatThread, ChatVisitor, MessageStatus
from runs.models import RunStatus, Step, StepStatus


def is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def deployment_list(*, workflow) -> QuerySet[ChatDeployment]:
    return ChatDeployment.objects.filter(workflow=workflow).order_by("created_at")


def deployment_by_public_id(public_id: str) -> ChatDeployment:
    deployment = (
        ChatDeployment.objects.select_related("workflow").filter(public_id=public_id).first()
        if 0 < len(public_id) <= 40
        else None
    )
    if deployment is None:
        raise Http404
    return deployment


def visitor_threads(*, visitor: ChatVisitor | None) -> QuerySet[ChatThread]:
    if visitor is None:
        return ChatThread.objects.none()
    return ChatThread.objects.filter(visitor=visitor).order_by("-updated_at")


def visitor_thread(*, visitor: ChatVisitor | None, thread_id) -> ChatThread:
    """The visitor's own thread; anyone else's (or an unknown id) is a 404, the same answer."""
    if visitor is None or not is_uuid(thread_id):
        raise Http404
    thread = ChatThread.objects.filter(pk=thread_id, visitor=visitor).first()
    if thread is None:
        raise Http404
    return thread


def thread_message(*, thread: ChatThread, message_id) -> ChatMessage:
    if not is_uuid(message_id):
        raise Http404
    message = ChatMessage.objects.select_related("run").filter(pk=message_id, thread=thread).first()
    if message is None:
        raise Http404
    return message


def _pending_approval(message: ChatMessage) -> dict | None:
    """A user_approval step of this answer's run that waits on the visitor (`approvers: "visitor"`)."""

    if message.run_id is None or message.run is None or message.run.status != RunStatus.WAITING:
        return None
    for step in Step.objects.filter(run_id=message.run_id, node_type="user_approval", status=StepStatus.WAITING):
        wait = step.wait or {}
        if wait.get("approvers") == "visitor":
            return {"step_id": str(step.pk), "message": str(wait.get("message") or "")}
    return None


def message_view(message: ChatMessage) -> dict:
    """What the page gets of one message: never run ids, errors or anything else of the workspace."""
    status = message.status
    approval = None
    if message.role == "assistant" and status == MessageStatus.PENDING:
        approval = _pending_approval(message)
        if approval is not None:
            status = MessageStatus.WAITING
        elif message.run is not None and message.run.status == "waiting":
            # Waiting for staff: the visitor only learns that the answer is on hold.
            status = MessageStatus.WAITING
    return {
        "id": str(message.pk),
        "role": message.role,
        "content": message.content,
        "html": render_markdown(message.content) if message.role == "assistant" else "",
        "status": status,
        "citations": message.citations or [],
        "approval": approval,
        "created_at": message.created_at.isoformat(),
    }


def thread_view(thread: ChatThread) -> dict:
    messages = thread.messages.select_related("run").order_by("created_at", "id")
    return {
        "id": str(thread.pk),
        "title": thread.title,
        "messages": [message_view(m) for m in messages],
    }


def deployment_threads(*, deployment: ChatDeployment) -> QuerySet[ChatThread]:
    return ChatThread.objects.filter(deployment=deployment).order_by("-updated_at")
