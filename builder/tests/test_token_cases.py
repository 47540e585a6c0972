"""The server's CEL tokenizer against the cases the editor's highlighter is also tested on."""

import json
from pathlib import Path

import pytest

from builder.expressions.parser import tokenize

CASES = json.loads((Path(__file__).parent.parent / "expressions" / "token_cases.json").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[c["source"][:40] for c in CASES])
def test_the_server_splits_cel_as_the_editor_does(case):
    assert [t.text for t in tokenize(case["source"]) if t.kind != "eof"] == case["tokens"]
