"""Feedback, datasets and items over the API: add, edit (versioned), import and export CSV/JSONL, add runs."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evals.models import DatasetItem, Feedback
from runs.services import run_start, run_wait

pytestmark = pytest.mark.django_db(transaction=True)


def finished_run(wf, message: str):
    run = run_start(workflow=wf, version="draft", input={"message": message}, trigger={"type": "api"})
    return run_wait(run_id=run.pk, timeout_s=20)


@pytest.fixture
def dataset(make_flow, client_for, editor, workspace):
    wf = make_flow()
    res = client_for(editor, workspace).post(f"/api/v1/workflows/{wf.pk}/datasets", {"name": "golden"}, format="json")
    assert res.status_code == 201, res.json()
    return wf, res.json()["id"]


def test_feedback_is_recorded_on_a_run_and_a_step_and_listed(make_flow, client_for, editor, viewer, workspace):
    wf = make_flow()
    run = finished_run(wf, "hi")
    step = run.steps.get(node_id="shout")
    api = client_for(editor, workspace)

    up = api.post(f"/api/v1/runs/{run.pk}/feedback", {"score": 1, "comment": "good"}, format="json")
    down = api.post(f"/api/v1/runs/{run.pk}/feedback", {"score": -1, "step_id": str(step.pk)}, format="json")
    listed = client_for(viewer, workspace).get(f"/api/v1/runs/{run.pk}/feedback")

    assert up.status_code == 201 and down.status_code == 201
    assert [(f["score"], f["step_id"], f["comment"], f["source"]) for f in listed.json()] == [
        (1, None, "good", "user"),
        (-1, str(step.pk), "", "user"),
    ]


def test_bad_feedback_is_refused_and_viewers_cannot_give_any(make_flow, client_for, editor, viewer, workspace):
    run = finished_run(make_flow(), "hi")
    bad = client_for(editor, workspace).post(f"/api/v1/runs/{run.pk}/feedback", {"score": 5}, format="json")
    denied = client_for(viewer, workspace).post(f"/api/v1/runs/{run.pk}/feedback", {"score": 1}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_error"
    assert denied.status_code == 403
    assert Feedback.objects.count() == 0


def test_items_are_added_one_or_many_and_a_bad_one_refuses_the_lot(dataset, client_for, editor, workspace):
    wf, did = dataset
    api = client_for(editor, workspace)
    base = f"/api/v1/workflows/{wf.pk}/datasets/{did}/items"

    one = api.post(base, {"input": {"message": "a"}, "expected": {"text": "A"}, "tags": ["x"]}, format="json")
    many = api.post(base, {"items": [{"input": {"message": "b"}}, {"input": {"message": "c"}}]}, format="json")
    bad = api.post(base, {"items": [{"input": {"message": "d"}}, {"input": "not an object"}]}, format="json")

    assert one.status_code == 201 and many.status_code == 201
    assert bad.status_code == 400
    assert bad.json()["error"]["details"] == [{"field": "items[1].input"}]
    assert [i["input"]["message"] for i in api.get(base).json()] == ["a", "b", "c"]


def test_editing_an_item_bumps_its_revision_and_deleting_hides_it(dataset, client_for, editor, workspace):
    wf, did = dataset
    api = client_for(editor, workspace)
    base = f"/api/v1/workflows/{wf.pk}/datasets/{did}/items"
    item = api.post(base, {"input": {"message": "a"}}, format="json").json()[0]

    edited = api.patch(f"{base}/{item['id']}", {"expected": {"text": "A"}}, format="json")
    deleted = api.delete(f"{base}/{item['id']}")

    assert edited.json()["revision"] == 2 and edited.json()["expected"] == {"text": "A"}
    assert deleted.status_code == 204
    assert api.get(base).json() == []
    assert DatasetItem.objects.get(pk=item["id"]).deleted_at is not None


def test_csv_import_maps_columns_to_input_fields_and_exports_back(dataset, client_for, editor, workspace):
    wf, did = dataset
    api = client_for(editor, workspace)
    csv_text = 'message,expected,tags\nhello,"{""text"": ""HELLO""}","a,b"\nbye,BYE,\n'
    res = api.post(
        f"/api/v1/workflows/{wf.pk}/datasets/{did}/items/import",
        {"file": SimpleUploadedFile("items.csv", csv_text.encode(), content_type="text/csv")},
        format="multipart",
    )
    assert res.status_code == 201, res.json()
    assert res.json() == {"imported": 2}
    exported = api.get(f"/api/v1/workflows/{wf.pk}/datasets/{did}/items/export?format=jsonl")
    assert [json.loads(line) for line in exported.content.decode().splitlines()] == [
        {"input": {"message": "hello"}, "expected": {"text": "HELLO"}, "tags": ["a", "b"]},
        {"input": {"message": "bye"}, "expected": "BYE", "tags": []},
    ]
    as_csv = api.get(f"/api/v1/workflows/{wf.pk}/datasets/{did}/items/export?format=csv")
    assert as_csv.content.decode().splitlines() == [
        "input,expected,tags",
        '"{""message"": ""hello""}","{""text"": ""HELLO""}","a,b"',
        '"{""message"": ""bye""}",BYE,',
    ]


def test_jsonl_import_sent_as_the_body_round_trips(dataset, client_for, editor, workspace):
    wf, did = dataset
    api = client_for(editor, workspace)
    body = '{"input": {"message": "x"}, "expected": "X"}\n\n{"input": {"message": "y"}, "tags": ["t"]}\n'
    res = api.generic(
        "POST",
        f"/api/v1/workflows/{wf.pk}/datasets/{did}/items/import?format=jsonl",
        body,
        content_type="application/jsonl",
    )
    assert res.status_code == 201, res.json()
    items = api.get(f"/api/v1/workflows/{wf.pk}/datasets/{did}/items").json()
    assert [(i["input"], i["expected"], i["tags"]) for i in items] == [
        ({"message": "x"}, "X", []),
        ({"message": "y"}, None, ["t"]),
    ]


def test_a_csv_missing_a_required_input_column_is_refused_and_nothing_is_stored(dataset, client_for, editor, workspace):
    wf, did = dataset
    res = client_for(editor, workspace).post(
        f"/api/v1/workflows/{wf.pk}/datasets/{did}/items/import",
        {"file": SimpleUploadedFile("items.csv", b"text,expected\nhello,HELLO\n", content_type="text/csv")},
        format="multipart",
    )
    assert res.status_code == 400
    assert res.json()["error"] == {
        "code": "invalid_import",
        "message": "The CSV has no column for the required input field message "
        "(the start node's input schema requires it).",
        "details": [{"column": "message", "message": "Missing column."}],
    }
    assert DatasetItem.objects.count() == 0


def test_a_jsonl_with_a_broken_line_stores_none_of_it(dataset, client_for, editor, workspace):
    wf, did = dataset
    body = '{"input": {"message": "x"}}\n{"input": \n'
    res = client_for(editor, workspace).generic(
        "POST",
        f"/api/v1/workflows/{wf.pk}/datasets/{did}/items/import?format=jsonl",
        body,
        content_type="application/jsonl",
    )
    assert res.status_code == 400
    assert res.json()["error"]["details"] == [{"line": 2}]
    assert DatasetItem.objects.count() == 0


def test_a_50_mb_jsonl_is_refused_at_the_size_limit_before_it_is_read(dataset, client_for, editor, workspace):
    wf, did = dataset

    class Unreadable:
        """A body that fails if anything reads it: the refusal must come from Content-Length."""

        def read(self, *args):
            raise AssertionError("the body was read")

        readline = read

    client = client_for(editor, workspace)
    res = client.generic(
        "POST",
        f"/api/v1/workflows/{wf.pk}/datasets/{did}/items/import?format=jsonl",
        b"",
        content_type="application/jsonl",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
        **{"wsgi.input": Unreadable()},
    )
    assert res.status_code == 413
    assert res.json()["error"]["code"] == "payload_too_large"
    assert res.json()["error"]["message"] == (
        "The file is 52428800 bytes; imports are limited to 10485760 bytes (TRELLIS_EVAL_IMPORT_MAX_BYTES)."
    )
    assert DatasetItem.objects.count() == 0


def test_a_real_50_mb_jsonl_over_http_is_refused_as_a_file_or_a_chunked_body_and_nothing_is_stored(
    dataset, editor, workspace
):
    import httpx

    from accounts.services import api_token_create
    from runs.testing.live_server import live_server_thread

    # given: 50 MB of valid JSONL lines, sent to a real server as a multipart file and as a chunked body
    # (no Content-Length to refuse it by)
    wf, did = dataset
    line = (json.dumps({"input": {"message": "x" * 200}, "expected": "y"}) + "\n").encode()
    body = line * (50 * 1024 * 1024 // len(line) + 1)
    assert len(body) >= 50 * 1024 * 1024
    _, token = api_token_create(workspace=workspace, user=editor, name="import")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def chunks():
        for start in range(0, len(body), 1024 * 1024):
            yield body[start : start + 1024 * 1024]

    with live_server_thread() as url, httpx.Client(base_url=url, headers=headers, timeout=60) as http:
        path = f"/api/v1/workflows/{wf.pk}/datasets/{did}/items/import"
        as_file = http.post(path, files={"file": ("items.jsonl", body, "application/jsonl")})
        as_stream = http.post(path + "?format=jsonl", content=chunks(), headers={"Content-Type": "application/jsonl"})

    # then: both are a 413 in the error shape, and no item was stored
    for res in (as_file, as_stream):
        assert res.status_code == 413, res.text[:300]
        assert res.json()["error"]["code"] == "payload_too_large"
        assert "imports are limited to 10485760 bytes" in res.json()["error"]["message"]
    assert DatasetItem.objects.count() == 0


def test_a_run_is_added_with_its_output_as_expected_or_an_edited_one(dataset, client_for, editor, workspace):
    wf, did = dataset
    run = finished_run(wf, "hi")
    api = client_for(editor, workspace)

    as_is = api.post(f"/api/v1/runs/{run.pk}/add-to-dataset", {"dataset": did}, format="json")
    edited = api.post(f"/api/v1/runs/{run.pk}/add-to-dataset", {"dataset": did, "expected": "Hi!"}, format="json")

    assert as_is.status_code == 201
    assert (as_is.json()["input"], as_is.json()["expected"], as_is.json()["source_run"]) == (
        {"message": "hi"},
        {"text": "HI"},
        str(run.pk),
    )
    assert edited.json()["expected"] == "Hi!"


def test_the_runs_matching_a_feedback_filter_are_added_in_bulk(dataset, client_for, editor, workspace):
    wf, did = dataset
    runs = [finished_run(wf, m) for m in ("one", "two", "three")]
    api = client_for(editor, workspace)
    api.post(f"/api/v1/runs/{runs[0].pk}/feedback", {"score": 1}, format="json")
    api.post(f"/api/v1/runs/{runs[2].pk}/feedback", {"score": 1}, format="json")
    api.post(f"/api/v1/runs/{runs[1].pk}/feedback", {"score": -1}, format="json")

    res = api.post(
        f"/api/v1/workflows/{wf.pk}/datasets/{did}/items/from-runs", {"filter": {"feedback": "up"}}, format="json"
    )

    assert res.status_code == 201 and res.json() == {"added": 2}
    items = api.get(f"/api/v1/workflows/{wf.pk}/datasets/{did}/items").json()
    assert sorted(i["input"]["message"] for i in items) == ["one", "three"]


def test_a_runs_filter_whose_version_is_no_number_is_refused_and_adds_nothing(dataset, client_for, editor, workspace):
    wf, did = dataset
    finished_run(wf, "one")
    api = client_for(editor, workspace)

    res = api.post(
        f"/api/v1/workflows/{wf.pk}/datasets/{did}/items/from-runs", {"filter": {"version": "AAA"}}, format="json"
    )

    assert res.status_code == 400
    assert res.json()["error"]["code"] == "validation_error"
    assert res.json()["error"]["details"] == [{"field": "filter.version"}]
    assert DatasetItem.objects.filter(dataset_id=did).count() == 0


def test_datasets_of_another_workspace_answer_404(dataset, client_for, make_workspace, make_user):
    wf, did = dataset
    stranger = make_user()
    other = make_workspace(owner=stranger)
    api = client_for(stranger, other)
    assert api.get(f"/api/v1/workflows/{wf.pk}/datasets/{did}").status_code == 404
    assert api.get(f"/api/v1/workflows/{wf.pk}/datasets/{did}/items").status_code == 404
    assert api.post(f"/api/v1/workflows/{wf.pk}/datasets/{did}/items", {"input": {}}, format="json").status_code == 404


def test_the_run_list_filters_on_feedback(make_flow, client_for, editor, workspace):
    wf = make_flow()
    liked, disliked, plain = (finished_run(wf, m) for m in ("a", "b", "c"))
    api = client_for(editor, workspace)
    api.post(f"/api/v1/runs/{liked.pk}/feedback", {"score": 1}, format="json")
    api.post(f"/api/v1/runs/{disliked.pk}/feedback", {"score": -1}, format="json")

    def ids(query):
        return [r["id"] for r in api.get(f"/api/v1/runs?workflow={wf.pk}&feedback={query}").json()["results"]]

    assert ids("up") == [str(liked.pk)]
    assert ids("down") == [str(disliked.pk)]
    assert ids("none") == [str(plain.pk)]
    assert ids("any") == [str(disliked.pk), str(liked.pk)]
    assert api.get("/api/v1/runs?feedback=meh").status_code == 400


def test_a_viewer_reads_datasets_and_items_but_changes_nothing(dataset, client_for, editor, viewer, workspace):
    wf, did = dataset
    editor_api = client_for(editor, workspace)
    editor_api.post(f"/api/v1/workflows/{wf.pk}/datasets/{did}/items", {"input": {"message": "a"}}, format="json")
    [item] = DatasetItem.objects.all()
    run = finished_run(wf, "b")
    api = client_for(viewer, workspace)
    base = f"/api/v1/workflows/{wf.pk}/datasets"

    assert api.get(base).status_code == 200
    assert [i["id"] for i in api.get(f"{base}/{did}/items").json()] == [str(item.pk)]
    assert api.get(f"{base}/{did}/items/export?format=csv").status_code == 200
    denied = [
        api.post(base, {"name": "mine"}, format="json"),
        api.patch(f"{base}/{did}", {"name": "renamed", "graders": []}, format="json"),
        api.delete(f"{base}/{did}"),
        api.post(f"{base}/{did}/items", {"input": {"message": "c"}}, format="json"),
        api.patch(f"{base}/{did}/items/{item.pk}", {"expected": "X"}, format="json"),
        api.delete(f"{base}/{did}/items/{item.pk}"),
        api.post(
            f"{base}/{did}/items/import",
            {"file": SimpleUploadedFile("i.csv", b"message\nd\n", content_type="text/csv")},
            format="multipart",
        ),
        api.post(f"{base}/{did}/items/from-runs", {"filter": {}}, format="json"),
        api.post(f"/api/v1/runs/{run.pk}/add-to-dataset", {"dataset": did}, format="json"),
    ]

    assert [r.status_code for r in denied] == [403] * len(denied)
    assert [d["name"] for d in api.get(base).json()] == ["golden"]
    item.refresh_from_db()
    assert (DatasetItem.objects.count(), item.revision, item.expected, item.deleted_at) == (1, 1, None, None)
