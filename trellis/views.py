"""Project-level views: the SPA shell, health check and the JSON 404 for unknown API paths."""

import json
from functools import lru_cache

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, ensure_csrf_cookie
from django.views.decorators.http import require_safe

from trellis.errors import error_response
from trellis.health import health_report


@lru_cache(maxsize=1)
def _vite_manifest() -> dict:
    manifest = settings.FRONTEND_DIST / ".vite" / "manifest.json"
    if not manifest.exists():
        return {}
    return json.loads(manifest.read_text())


def _entry_assets() -> dict:
    manifest = _vite_manifest() if not settings.DEBUG else {}
    if not manifest and settings.DEBUG:
        _vite_manifest.cache_clear()
        manifest = _vite_manifest()
    entry = manifest.get("index.html") or {}
    return {"js": entry.get("file"), "css": entry.get("css", [])}


# The app sends X-CSRFToken on writes; make sure the cookie exists even for a session made elsewhere.
@ensure_csrf_cookie
@login_required
def spa(request):
    return render(request, "spa.html", {"assets": _entry_assets()})


@never_cache
@require_safe
def healthz(request):
    """200 when every part is ok, else 503 — with each part's status, so a load balancer and a human
    read the same answer. Unauthenticated by design: it reveals no data, only reachability."""
    report = health_report()
    return _json(report, status=200 if report["status"] == "ok" else 503)


# It changes nothing, so a write to an unknown path answers 404 whatever its CSRF token says.
@csrf_exempt
def api_not_found(request, *args, **kwargs):
    return error_response("not_found", "No such API path.", status=404)


def _json(data, status=200):
    return JsonResponse(data, status=status)
