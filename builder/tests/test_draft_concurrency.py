"""Two editors saving from the same revision at the same moment: one wins, the other gets 409."""

import threading

import pytest
from django.db import connection

from builder.models import Workflow
from builder.services.workflows import draft_save, workflow_create
from builder.tests.factories import linear
from trellis.errors import ApplicationError


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_from_one_revision_never_both_win(workspace, editor):
    workflow = workflow_create(workspace=workspace, by=editor, name="Race")
    barrier = threading.Barrier(2)
    outcomes: list = []

    def save(label: str) -> None:
        graph = linear()
        graph["nodes"][1]["name"] = label
        try:
            barrier.wait()
            draft_save(workflow=workflow, by=editor, graph=graph, revision=1)
            outcomes.append(("saved", label))
        except ApplicationError as exc:
            outcomes.append((exc.status, exc.details))
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(label,)) for label in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    saved = [o for o in outcomes if o[0] == "saved"]
    refused = [o for o in outcomes if o[0] == 409]
    assert (len(saved), len(refused)) == (1, 1)
    assert refused[0][1] == {"current_revision": 2}
    workflow.refresh_from_db()
    assert workflow.draft_revision == 2
    assert workflow.draft_graph["nodes"][1]["name"] == saved[0][1]
    assert Workflow.objects.count() == 1
