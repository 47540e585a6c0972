"""Gives plain Django views' bare 405 answers (e.g. from require_POST) the JSON error shape on API paths,
and refuses NUL bytes in the query string and headers up front."""

from trellis.errors import error_response, wants_json

NUL_MESSAGE = "NUL characters are not allowed in the URL or headers."


def has_nul(path: str, query_pairs, header_values) -> bool:
    """PostgreSQL refuses NUL in text, so a %00 in ?workspace=, ?status=, ?q= … or in a header would
    reach a query and fail as a 500; no legitimate value contains one. Also used by the webhook endpoint."""
    return (
        "\x00" in path
        or any("\x00" in name or "\x00" in value for name, value in query_pairs)
        or any("\x00" in str(value) for value in header_values)
    )


class ErrorShapeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = ((key, value) for key, values in request.GET.lists() for value in values)
        if has_nul(request.path, query, request.headers.values()):
            return error_response("bad_request", NUL_MESSAGE)
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
