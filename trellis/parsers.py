"""The API's JSON parser: DRF's, plus the checks that would otherwise surface as a 500 deeper down —
PostgreSQL refuses NUL (U+0000) in text and jsonb, and Python's decoder overflows the stack on very
deep nesting. Both become a 400 in the error shape before any view or service sees the data."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_DEPTH = 256


def json_problem(data, max_depth: int = MAX_DEPTH) -> str | None:
    """Why `data` cannot be stored, or None. Iterative, so a deep document cannot overflow the stack."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > max_depth:
            return f"The JSON is nested more than {max_depth} levels deep."
        if isinstance(value, str):
            if "\x00" in value:
                return "NUL characters (\\u0000) are not allowed in text."
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    return "NUL characters (\\u0000) are not allowed in text."
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return None


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested more than {MAX_DEPTH} levels deep.") from None
        problem = json_problem(data)
        if problem:
            raise ParseError(problem)
        return data
