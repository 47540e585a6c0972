"""The API's JSON parser: DRF's, plus the checks that would otherwise surface as a 500 deeper down —
PostgreSQL refuses NUL (U+0000) in text and jsonb, and Python's decoder overflows the stack on very
deep nesting. Both become a 400 in the error shape before any view or service sees the data."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

from trellis.jsoncheck import MAX_DEPTH, json_problem


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
