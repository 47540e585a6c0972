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
