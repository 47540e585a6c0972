"""The public side of a chat deployment: the hosted page, the embed script and the page's own
visitor-scoped API under /chat/<public_id>/api/ (JSON; answers stream as Server-Sent Events).

A visitor is known by an HttpOnly cookie signed with SECRET_KEY and scoped to the deployment's path
(`members` deployments use the signed-in user instead); never by an API token. Writes need the
`X-Trellis-Chat` header and, when the browser sends one, the page's own Origin: a custom header cannot
cross origins without a CORS preflight, which this API never grants."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from csp.constants import NONE, SELF
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt

from chat import selectors, services, stream
from chat.models import Access, ChatDeployment, ChatMessage, ChatVisitor
from runs.replies import answer_nodes
from runs.triggers.threads import in_thread
from runs.triggers.waiting import Listener
from trellis.bodies import json_body
from trellis.errors import ApplicationError, error_body

COOKIE = "trellis_chat"
SALT = "trellis.chat.visitor"
WRITE_HEADER = "X-Trellis-Chat"
STATIC = Path(__file__).resolve().parent / "static" / "chat"


# --- helpers ------------------------------------------------------------------------------------------------


def _error(exc: ApplicationError) -> JsonResponse:
    return JsonResponse(error_body(exc.code, exc.message, exc.details), status=exc.status, headers=exc.headers)


def _not_found() -> JsonResponse:
    return _error(ApplicationError("not_found", "Not found.", status=404))


def _own_origins(request) -> set[str]:
    own = {f"{request.scheme}://{request.get_host()}"}
    public = urlsplit(settings.PUBLIC_URL)
    own.add(f"{public.scheme}://{public.netloc}")
    return own


def origin_allowed(deployment: ChatDeployment, origin: str, request) -> bool:
    if origin in _own_origins(request):
        return True
    allowed = deployment.allowed_origins or []
    if "*" in allowed:
        return True
    try:
        return services.normalize_origin(origin) in allowed
    except ApplicationError:
        return False


def _cookie_visitor(request, deployment: ChatDeployment) -> ChatVisitor | None:
    raw = request.COOKIES.get(COOKIE)
    if not raw:
        return None
    try:
        data = signing.loads(raw, salt=SALT, max_age=settings.CHAT_VISITOR_TTL_S)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("d") != str(deployment.pk) or not selectors.is_uuid(data.get("v")):
        return None
    return ChatVisitor.objects.filter(pk=data["v"], deployment=deployment, user__isnull=True).first()


def _set_cookie(response, deployment: ChatDeployment, visitor: ChatVisitor) -> None:
    value = signing.dumps({"v": str(visitor.pk), "d": str(deployment.pk)}, salt=SALT)
    secure = settings.SECURE_SSL
    response.set_cookie(
        COOKIE,
        value,
        max_age=settings.CHAT_VISITOR_TTL_S,
        path=f"/chat/{deployment.public_id}",
        httponly=True,
        secure=secure,
        # An embedded chat is a third-party frame: its cookie must be sent there too (needs HTTPS).
        samesite="None" if secure else "Lax",
    )


def _context(request, public_id: str, *, create_visitor: bool = False):
    """(deployment, visitor, created) for an API call; raises Http404 / ApplicationError."""
    deployment = selectors.deployment_by_public_id(public_id)
    if not deployment.enabled:
        raise ApplicationError("chat_disabled", "This chat is turned off.", status=403)
    if deployment.access == Access.MEMBERS:
        if not request.user.is_authenticated:
            raise ApplicationError("login_required", "Sign in to use this chat.", status=401)
        if not services.visitor_may_use(deployment, request.user):
            raise Http404
        visitor = ChatVisitor.objects.filter(deployment=deployment, user=request.user).first()
        if visitor is None and create_visitor:
            visitor = services.visitor_create(deployment=deployment, user=request.user)
        return deployment, visitor, False
    visitor = _cookie_visitor(request, deployment)
    if visitor is None and create_visitor:
        return deployment, services.visitor_create(deployment=deployment), True
    return deployment, visitor, False


def _check_write(request) -> None:
    if request.headers.get(WRITE_HEADER) != "1":
        raise ApplicationError("bad_request", f"Send the {WRITE_HEADER}: 1 header.", status=400)
    origin = request.headers.get("Origin")
    if origin and origin not in _own_origins(request):
        raise ApplicationError("origin_not_allowed", "This origin may not call the chat API.", status=403)


def _public(view):
    """JSON errors for the visitor API; the page never sees a traceback or a workspace detail."""

    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except ApplicationError as exc:
            return _error(exc)
        except Http404:
            return _not_found()

    wrapped.__name__ = view.__name__
    return csrf_exempt(wrapped)


def _public_async(view):
    async def wrapped(request, *args, **kwargs):
        try:
            return await view(request, *args, **kwargs)
        except ApplicationError as exc:
            return _error(exc)
        except Http404:
            return _not_found()

    wrapped.__name__ = view.__name__
    return csrf_exempt(wrapped)


# --- the page ----------------------------------------------------------------------------------------------


def page_csp(deployment: ChatDeployment) -> str:
    """The page's own Content-Security-Policy, built with django-csp. It is set on the response, so an
    app-wide CSPMiddleware leaves it alone (it only adds a header that is not there yet)."""
    allowed = deployment.allowed_origins or []
    ancestors = ["*"] if "*" in allowed else [SELF, *allowed]
    return build_policy(
        config={
            "default-src": [NONE],
            "script-src": [SELF],
            "style-src": [SELF],
            "img-src": [SELF, "data:"],
            "connect-src": [SELF],
            "base-uri": [NONE],
            "form-action": [SELF],
            "frame-ancestors": ancestors,
        }
    )


def _framing_origin(request) -> str | None:
    """The embedding page's origin when this page loads in a frame, else None."""
    framed = request.headers.get("Sec-Fetch-Dest") == "iframe" or request.GET.get("embed") == "1"
    if not framed:
        return None
    referer = request.headers.get("Referer") or ""
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _page(request, deployment: ChatDeployment | None, *, state: str, status: int = 200, embed=False):
    context = {"state": state, "embed": embed, "deployment": deployment}
    if deployment is not None and state == "ready":
        color = (deployment.theme or {}).get("color") or ""
        context["config"] = {
            "title": deployment.title,
            "greeting": deployment.greeting,
            "starter_prompts": deployment.starter_prompts,
            "color": color,
            "max_message_chars": deployment.max_message_chars,
            "api": f"/chat/{deployment.public_id}/api",
        }
    response = render(request, "chat/page.html", context, status=status)
    if deployment is not None:
        response["Content-Security-Policy"] = page_csp(deployment)
    else:
        response["Content-Security-Policy"] = build_policy(
            config={"default-src": [NONE], "style-src": [SELF], "frame-ancestors": [SELF]}
        )
    response["Referrer-Policy"] = "no-referrer"
    response["Cache-Control"] = "no-store"
    return response


@xframe_options_exempt
def chat_page(request, public_id: str):
    try:
        deployment = selectors.deployment_by_public_id(public_id)
    except Http404:
        return _page(request, None, state="missing", status=404)
    framing = _framing_origin(request)
    embed = framing is not None
    if embed and not origin_allowed(deployment, framing, request):
        return _page(request, deployment, state="origin", status=403, embed=True)
    if not deployment.enabled:
        return _page(request, deployment, state="disabled", status=403, embed=embed)
    if deployment.access == Access.MEMBERS:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        if not services.visitor_may_use(deployment, request.user):
            return _page(request, None, state="missing", status=404)
    response = _page(request, deployment, state="ready", embed=embed)
    visitor = _cookie_visitor(request, deployment) if deployment.access == Access.PUBLIC else None
    if visitor is not None:
        _set_cookie(response, deployment, visitor)  # a visit keeps the conversation for another TTL
    return response


@lru_cache(maxsize=1)
def _embed_source() -> bytes:
    return (STATIC / "embed.js").read_bytes()


def embed_script(request):
    response = HttpResponse(_embed_source(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


# --- the visitor API ---------------------------------------------------------------------------------------


@_public
def config(request, public_id: str):
    """For the embed script on the host page: CORS only for allowed origins, so another site learns nothing."""
    deployment = selectors.deployment_by_public_id(public_id)
    origin = request.headers.get("Origin")
    if origin and not origin_allowed(deployment, origin, request):
        return _error(ApplicationError("origin_not_allowed", "This site may not embed this chat.", status=403))
    response = JsonResponse(
        {
            "title": deployment.title,
            "color": (deployment.theme or {}).get("color") or "",
            "enabled": deployment.enabled,
            "url": f"/chat/{deployment.public_id}",
        }
    )
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    return response


@_public
def threads(request, public_id: str):
    if request.method == "GET":
        _, visitor, _ = _context(request, public_id)
        rows = selectors.visitor_threads(visitor=visitor)[:50]
        return JsonResponse(
            {"threads": [{"id": str(t.pk), "title": t.title, "updated_at": t.updated_at.isoformat()} for t in rows]}
        )
    if request.method != "POST":
        return _error(ApplicationError("method_not_allowed", "Use GET or POST.", status=405))
    _check_write(request)
    deployment, visitor, created = _context(request, public_id, create_visitor=True)
    thread = services.thread_create(deployment=deployment, visitor=visitor)
    response = JsonResponse(selectors.thread_view(thread), status=201)
    if created:
        _set_cookie(response, deployment, visitor)
    return response


@_public
def thread(request, public_id: str, thread_id: str):
    if request.method != "GET":
        return _error(ApplicationError("method_not_allowed", "Use GET.", status=405))
    _, visitor, _ = _context(request, public_id)
    return JsonResponse(selectors.thread_view(selectors.visitor_thread(visitor=visitor, thread_id=thread_id)))


def _send(request, public_id: str, thread_id: str, text, join):
    _check_write(request)
    deployment, visitor, _ = _context(request, public_id)
    thread = selectors.visitor_thread(visitor=visitor, thread_id=thread_id)
    question, answer = services.message_send(
        deployment=deployment,
        visitor=visitor,
        thread=thread,
        text=text,
        before_dispatch=lambda run: join(run.pk),
    )

    nodes = answer_nodes(deployment.workflow.published_version.graph)
    return selectors.message_view(question), selectors.message_view(answer), answer.run_id, nodes


@_public_async
async def messages(request, public_id: str, thread_id: str):
    if request.method != "POST":
        return _error(ApplicationError("method_not_allowed", "Use POST.", status=405))
    body = json_body(request)
    listener = await Listener.open()
    try:
        question, answer, run_id, nodes = await in_thread(_send)(
            request, public_id, thread_id, body.get("message"), listener.join
        )
    except BaseException:
        await listener.close()
        raise
    stream.start_relay(message_id=answer["id"], run_id=run_id, listener=listener, answer_nodes=nodes)
    base = f"/chat/{public_id}/api/threads/{thread_id}/messages/{answer['id']}"
    return JsonResponse({"question": question, "answer": answer, "stream_url": f"{base}/stream"}, status=202)


def _message(request, public_id: str, thread_id: str, message_id: str):
    _, visitor, _ = _context(request, public_id)
    thread = selectors.visitor_thread(visitor=visitor, thread_id=thread_id)
    return selectors.thread_message(thread=thread, message_id=message_id)


def _view_of(message_id):
    def load():
        return selectors.message_view(ChatMessage.objects.select_related("run").get(pk=message_id))

    return load


@_public_async
async def stream_view(request, public_id: str, thread_id: str, message_id: str):
    if request.method != "GET":
        return _error(ApplicationError("method_not_allowed", "Use GET.", status=405))
    message = await in_thread(_message)(request, public_id, thread_id, message_id)
    if message.role != "assistant":
        return _not_found()
    resume = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    after = int(resume) if resume.isdigit() else (10**9 if resume == "done" else 0)
    body = stream.answer_events(message_id=str(message.pk), after=after, final_view=_view_of(message.pk))
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-store"
    response["X-Accel-Buffering"] = "no"
    return response


def _approve(request, public_id, thread_id, message_id, body, join):
    _check_write(request)
    message = _message(request, public_id, thread_id, message_id)
    decision = body.get("decision")
    if decision not in ("approved", "rejected"):
        raise ApplicationError(
            "validation_error", 'decision must be "approved" or "rejected".', [{"field": "decision"}]
        )
    services.approval_decide(
        message=message, step_id=body.get("step_id"), decision=decision, before_dispatch=lambda run: join(run.pk)
    )

    graph = message.thread.deployment.workflow.published_version.graph
    return str(message.pk), message.run_id, answer_nodes(graph)


@_public_async
async def approval(request, public_id: str, thread_id: str, message_id: str):
    if request.method != "POST":
        return _error(ApplicationError("method_not_allowed", "Use POST.", status=405))
    body = json_body(request)
    listener = await Listener.open()
    try:
        message_id, run_id, nodes = await in_thread(_approve)(
            request, public_id, thread_id, message_id, body, listener.join
        )
    except BaseException:
        await listener.close()
        raise
    stream.start_relay(message_id=message_id, run_id=run_id, listener=listener, answer_nodes=nodes)
    base = f"/chat/{public_id}/api/threads/{thread_id}/messages/{message_id}"
    return JsonResponse({"stream_url": f"{base}/stream"}, status=202)
