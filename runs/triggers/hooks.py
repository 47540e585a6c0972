"""HTTP views for `POST /hooks/<key>` and `POST /hooks/test/<key>`.

Async views so that a caller waiting for a sync result holds no worker thread of the ASGI server's
single sync thread; the blocking work runs on runs.triggers.threads' pool (own database connections)."""

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from runs.models import Run
from runs.triggers import ingest
from runs.triggers.threads import in_thread
from runs.triggers.waiting import STOP_STATUSES, Listener
from runs.triggers.webhooks import InboundRequest, webhook_receive
from trellis.errors import ApplicationError, error_body, error_response


def inbound_request(request, key: str, *, test: bool) -> InboundRequest:
    return InboundRequest.from_http(
        key=key,
        test=test,
        headers=request.headers.items(),
        query_string=request.META.get("QUERY_STRING", ""),
        read_body=request.read,
    )


def _result_of(run) -> dict:
    return {"status": run.status, "output": run.output, "error": run.error}


def _current(run_id) -> dict:
    return Run.objects.filter(pk=run_id).values("status", "output", "error").get()


def run_urls(run_id) -> dict:
    base = settings.PUBLIC_URL
    ws_base = "ws" + base.removeprefix("http")
    return {"status_url": f"{base}/api/v1/runs/{run_id}", "events_url": f"{ws_base}/ws/runs/{run_id}/"}


async def _handle(request, key: str, *, test: bool):
    if request.method != "POST":
        response = error_response("method_not_allowed", "Webhooks are called with POST.", status=405)
        response["Allow"] = "POST"
        return response
    try:
        inbound = inbound_request(request, key, test=test)
    except ApplicationError as exc:
        return error_response(exc.code, exc.message, exc.details, status=exc.status)
    status, body, headers = await respond(inbound)
    return JsonResponse(body, status=status, headers=headers)


async def respond(inbound: InboundRequest) -> tuple[int, dict, dict]:
    """Answer one webhook call: (status, JSON body, headers). Shared by the Django views and the
    lean ASGI endpoint (runs/triggers/asgi.py) that serves /hooks/ under uvicorn."""
    listener = await Listener.open()  # no I/O until a run is joined
    try:
        accepted = await ingest.accept(inbound, listener.join) if not inbound.test and ingest.enabled() else None
        if isinstance(accepted, ApplicationError):
            raise accepted
        if accepted is ingest.FULL_PATH:
            accepted = await in_thread(webhook_receive)(inbound, on_run=listener.join)
        run = accepted.run
        headers = {"Idempotent-Replayed": "true"} if accepted.duplicate else {}
        if accepted.wait_s:
            result = _result_of(run) if run.status in STOP_STATUSES else await listener.wait(accepted.wait_s)
            return 200, {"run_id": str(run.pk), **(result or await in_thread(_current)(run.pk))}, headers
    except ApplicationError as exc:
        return exc.status, error_body(exc.code, exc.message, exc.details), dict(exc.headers)
    finally:
        await listener.close()
    return 202, {"run_id": str(run.pk), "status": run.status, **run_urls(run.pk)}, headers


@csrf_exempt
async def hook(request, key: str):
    return await _handle(request, key, test=False)


@csrf_exempt
async def hook_test(request, key: str):
    return await _handle(request, key, test=True)
