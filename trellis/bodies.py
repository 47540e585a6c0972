"""Reading a request: the API takes a JSON object as body (an empty body reads as `{}`) and refuses anything
else, a list or a JSON null included, with one error; whole-number query parameters likewise."""

import json

from trellis.errors import ApplicationError


def _not_an_object() -> ApplicationError:
    return ApplicationError("bad_request", "The body must be a JSON object.")


def body_dict(request) -> dict:
    """A DRF request's parsed body."""
    if request.data == "":
        return {}
    if not isinstance(request.data, dict):
        raise _not_an_object()
    return request.data


def validated(serializer_class, request, *, partial: bool = False) -> dict:
    """A DRF request's body, validated by `serializer_class` (a 400 with the fields at fault otherwise)."""
    serializer = serializer_class(data=body_dict(request), partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def json_body(request) -> dict:
    """A plain Django request's body, for the views outside DRF (the public chat and OpenAI-compatible APIs)."""
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        raise ApplicationError("bad_request", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _not_an_object()
    return body


def int_param(request, name: str, default: int | None = None) -> int | None:
    """The query parameter `name` as a whole number (`default` when it is absent), or a 400 naming it."""
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ApplicationError("validation_error", f"{name} must be a whole number.", [{"field": name}]) from None


def days_param(request, *, most: int = 366) -> int:
    """?days= of the usage reports: 30 unless given, from 1 to `most`."""
    days = int_param(request, "days", 30)
    if not 1 <= days <= most:
        raise ApplicationError("validation_error", f"days must be between 1 and {most}.", [{"field": "days"}])
    return days
