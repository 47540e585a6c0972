"""Secrets resolved by a node never reach stored steps, events, run rows, live deltas or logs."""

import io
import json
import logging

import pytest
from django.db import connection

from accounts.services import secret_set
from runs.dispatch import dispatch_run
from runs.models import Run, RunEvent, Step
from runs.redaction import MASK, Redactor, SecretLogFilter
from runs.services import run_wait
from runs.tests.helpers import line, node, start

SECRET = "sk-live-9f8e7d6c5b4a39281706"


@pytest.mark.django_db(transaction=True)
def test_a_secret_is_redacted_from_every_stored_row_event_and_log(make_run, workspace):
    # given a workflow whose node resolves a secret and echoes it into its output
    secret_set(workspace=workspace, name="API_KEY", value=SECRET)
    g = line(
        start(),
        node("call", "test_stream", secret="API_KEY", chunks=3),
        node("copy", "transform", output={"echo": "nodes.call.output.echo", "again": "input.echo + '!'"}),
        node("end", "end", output={"echo": "nodes.copy.output.echo"}),
    )
    run = make_run(g, {"note": "no secret here"})
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(SecretLogFilter())
    logging.getLogger().addHandler(handler)
    try:
        # when
        dispatch_run(run.pk)
        run = run_wait(run_id=run.pk, timeout_s=10)
    finally:
        logging.getLogger().removeHandler(handler)
    # then the run worked and shows the mask where the secret was
    assert run.status == "succeeded", run.error
    assert run.output == {"echo": f"key={MASK}"}
    assert Step.objects.get(run=run, node_id="copy").output == {"echo": f"key={MASK}", "again": f"key={MASK}!"}
    # and no stored byte anywhere holds the secret
    with connection.cursor() as cursor:
        for table in (Run._meta.db_table, Step._meta.db_table, RunEvent._meta.db_table):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - table names from models
            dump = json.dumps([list(map(str, row)) for row in cursor.fetchall()])
            assert SECRET not in dump, table
    assert RunEvent.objects.filter(run=run).count() > 5
    logged = buffer.getvalue()
    assert "calling the API with key" in logged
    assert SECRET not in logged
    assert MASK in logged


def test_the_redactor_masks_nested_values_and_longest_secrets_first():
    r = Redactor()
    r.add("abcd")
    r.add("abcdefgh")
    value = {"k": ["xx abcdefgh yy", {"abcd": "abcd"}], "n": 3}
    assert r.value(value) == {"k": [f"xx {MASK} yy", {MASK: MASK}], "n": 3}
    r.forget()


def test_the_redactor_masks_the_json_escaped_url_encoded_and_base64_forms_of_a_secret():
    import base64

    secret = 'tok/é+"q=9f8e7d6c5b4a'
    r = Redactor()
    r.add(secret)
    texts = {
        "json ascii": '{"k": "tok\\/\\u00e9+\\"q=9f8e7d6c5b4a"}',
        "json upper hex": '{"k": "tok\\/\\u00E9+\\"q=9f8e7d6c5b4a"}',
        "json utf-8": '{"k": "tok/é+\\"q=9f8e7d6c5b4a"}',
        "url": "https://x.test/?k=tok%2F%C3%A9%2B%22q%3D9f8e7d6c5b4a&n=1",
        "url lower hex": "k=tok%2f%c3%a9%2b%22q%3d9f8e7d6c5b4a",
        "form": "k=tok%2F%C3%A9%2B%22q%3D9f8e7d6c5b4a",
        "base64": base64.b64encode(secret.encode()).decode(),
    }
    # inside a longer base64 text, at each of the three byte alignments
    for prefix in ("", "a", "ab"):
        texts[f"base64 after {len(prefix)}"] = base64.b64encode(f"{prefix}user:{secret}!".encode()).decode()
        texts[f"urlsafe base64 after {len(prefix)}"] = base64.urlsafe_b64encode(f"{prefix}:{secret}".encode()).decode()

    masked = {name: r.value(text) for name, text in texts.items()}

    for name, text in masked.items():
        assert MASK in text, name
        assert secret not in text and "9f8e7d6c5b4a" not in text, name
    assert masked["json ascii"] == '{"k": "[redacted]"}'
    assert masked["url"] == "https://x.test/?k=[redacted]&n=1"
    assert masked["base64"] == MASK
    # every base64 character that depends on the secret alone is gone
    encoded = base64.b64encode(b"ab" + f"user:{secret}!".encode()).decode()
    assert r.text(encoded).startswith(encoded[:4]) and len(r.text(encoded)) < len(encoded)
    r.forget()


def test_text_is_masked_before_it_is_cut():
    from runs.executors.base import NodeContext

    r = Redactor()
    r.add("sk-live-9f8e7d6c5b4a")
    ctx = NodeContext(run_id="r", workspace_id="w", node={"id": "n"}, scope={}, redact=r.text)

    assert ctx.excerpt("x" * 5 + "sk-live-9f8e7d6c5b4a tail", 12) == "xxxxx[redact"
    r.forget()
