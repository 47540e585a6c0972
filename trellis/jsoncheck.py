"""Why a JSON document cannot be stored: PostgreSQL refuses NUL (U+0000) in text and jsonb, and Python's
decoder overflows the stack on very deep nesting. Used by the API's parser (trellis/parsers.py) and by
services that take JSON from elsewhere (runs.services for run input)."""

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
