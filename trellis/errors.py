"""The one domain error type and the DRF exception handler that renders DESIGN §7's error shape."""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.template import loader
from django.views.csrf import csrf_failure as django_csrf_failure
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A failure a client can act on: rendered as {"error": {code, message, details}} with `status`."""

    def __init__(self, code: str, message: str, details: Any = None, *, status: int = 400, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details if details is not None else []
        self.status = status
        self.headers = headers or {}


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details if details is not None else []}}


def error_response(code: str, message: str, details: Any = None, *, status: int = 400) -> JsonResponse:
    """For plain Django views (webhooks, error pages) that answer outside DRF."""
    return JsonResponse(error_body(code, message, details), status=status)


def _flatten_validation(detail, prefix: str = "") -> list[dict]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            out += _flatten_validation(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(detail, list):
        if all(not isinstance(v, (dict, list)) for v in detail):
            return [{"field": prefix or None, "message": str(v)} for v in detail]
        out = []
        for i, value in enumerate(detail):
            out += _flatten_validation(value, f"{prefix}[{i}]")
        return out
    return [{"field": prefix or None, "message": str(detail)}]


_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "throttled",
}


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status, headers=exc.headers)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        return None  # unexpected: Django's 500 handler answers with the error shape
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("validation_error", "The request is not valid.", _flatten_validation(exc.detail))
    else:
        detail = getattr(exc, "detail", "")
        code = _CODES.get(response.status_code, getattr(exc, "default_code", "error"))
        body = error_body(code, str(detail) if detail else "Request failed.")
    response.data = body
    return response


_JSON_PREFIXES = ("/api/", "/hooks/", "/v1/")


def wants_json(request) -> bool:
    """API paths always answer JSON; pages answer HTML unless the client asked for JSON only."""
    if request.path.startswith(_JSON_PREFIXES):
        return True
    accept = request.META.get("HTTP_ACCEPT", "")
    return "application/json" in accept and "text/html" not in accept


def _html(request, template: str, status: int):
    try:
        body = loader.get_template(template).render({}, request if status != 500 else None)
    except Exception:  # an error page must never fail itself
        body = "<!doctype html><title>Trellis</title><h1>Error</h1>"
    return HttpResponse(body, status=status)


def handler404(request, exception=None):
    if wants_json(request):
        return error_response("not_found", "Not found.", status=status.HTTP_404_NOT_FOUND)
    return _html(request, "404.html", 404)


def handler500(request):
    if wants_json(request):
        return error_response("server_error", "Something went wrong on our side.", status=500)
    return _html(request, "500.html", 500)


def handler403(request, exception=None):
    return error_response("permission_denied", "You do not have permission to do this.", status=403)


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: API paths answer the error shape (a client that sends a session cookie without the
    CSRF token gets JSON it can read); pages keep Django's explanatory HTML page."""
    if wants_json(request):
        return error_response("permission_denied", f"CSRF check failed: {reason}", status=403)

    return django_csrf_failure(request, reason=reason)


def handler400(request, exception=None):
    return error_response("bad_request", "Bad request.", status=400)
