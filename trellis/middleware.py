"""Gives plain Django views' bare 405 answers (e.g. from require_POST) the JSON error shape on API paths."""

from trellis.errors import error_response, wants_json


class ErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 405 and not response.get("Content-Type", "").startswith("application/json"):
            if wants_json(request) or request.path == "/healthz":
                shaped = error_response(
                    "method_not_allowed", f"Method {request.method} is not allowed here.", status=405
                )
                if response.has_header("Allow"):
                    shaped["Allow"] = response["Allow"]
                return shaped
        return response
