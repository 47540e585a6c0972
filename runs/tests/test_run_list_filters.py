"""The run list's server-side filters (version, trigger, since, until, with workflow and status): each one,
combined, across keyset pages, bad values as 400s, and never another workspace's runs."""

import datetime as dt

import pytest

from builder.models import Workflow, WorkflowVersion
from runs.models import Run

pytestmark = pytest.mark.django_db

GRAPH = {"format": "trellis.graph/1", "nodes": [], "edges": []}
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def workflow(workspace, owner):
    return Workflow.objects.create(workspace=workspace, name="Filtered", draft_graph=GRAPH, created_by=owner)


@pytest.fixture
def version_of(workflow):
    made = {}

    def get(number: int, wf=None) -> WorkflowVersion:
        wf = wf or workflow
        if (wf.pk, number) not in made:
            made[wf.pk, number] = WorkflowVersion.objects.create(
                workflow=wf, number=number, graph=GRAPH, checksum=f"{number:064d}"
            )
        return made[wf.pk, number]

    return get


@pytest.fixture
def add_run(workflow, version_of):
    """add_run(created_at, trigger="api", version=None|n, status="succeeded", workflow=None) -> Run.
    version None makes a draft run."""

    def add(created_at, *, trigger="api", version=None, status="succeeded", wf=None) -> Run:
        wf = wf or workflow
        run = Run.objects.create(
            workspace_id=wf.workspace_id,
            workflow=wf,
            graph=GRAPH,
            is_draft=version is None,
            version=version_of(version, wf) if version is not None else None,
            status=status,
            trigger={"type": trigger},
        )
        Run.objects.filter(pk=run.pk).update(created_at=created_at)  # auto_now_add ignores a given value
        return run

    return add


@pytest.fixture
def client(client_for, viewer, workspace):
    return client_for(viewer, workspace)


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [r["id"] for r in response.json()["results"]]


def newest_first(*runs: Run) -> list[str]:
    return [str(r.pk) for r in sorted(runs, key=lambda r: Run.objects.get(pk=r.pk).created_at, reverse=True)]


def test_the_trigger_filter_keeps_only_runs_of_that_trigger_type(client, add_run):
    hook = add_run(T0, trigger="webhook")
    add_run(T0 + dt.timedelta(minutes=1), trigger="api")
    sched = add_run(T0 + dt.timedelta(minutes=2), trigger="schedule")

    assert ids(client.get("/api/v1/runs?trigger=webhook")) == [str(hook.pk)]
    assert ids(client.get("/api/v1/runs?trigger=webhook,schedule")) == [str(sched.pk), str(hook.pk)]
    assert ids(client.get("/api/v1/runs?trigger=openai")) == []


def test_the_version_filter_takes_a_number_or_draft(client, add_run):
    v1 = add_run(T0, version=1)
    v2 = add_run(T0 + dt.timedelta(minutes=1), version=2)
    draft = add_run(T0 + dt.timedelta(minutes=2), version=None)

    assert ids(client.get("/api/v1/runs?version=1")) == [str(v1.pk)]
    assert ids(client.get("/api/v1/runs?version=2")) == [str(v2.pk)]
    assert ids(client.get("/api/v1/runs?version=draft")) == [str(draft.pk)]
    assert ids(client.get("/api/v1/runs?version=3")) == []


def test_since_and_until_dates_cover_whole_utc_days(client, add_run):
    before = add_run(dt.datetime(2026, 2, 28, 23, 59, 59, 999999, tzinfo=dt.UTC))
    first = add_run(dt.datetime(2026, 3, 1, 0, 0, tzinfo=dt.UTC))
    last = add_run(dt.datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=dt.UTC))
    after = add_run(dt.datetime(2026, 3, 3, 0, 0, tzinfo=dt.UTC))

    assert ids(client.get("/api/v1/runs?since=2026-03-01&until=2026-03-02")) == [str(last.pk), str(first.pk)]
    assert ids(client.get("/api/v1/runs?since=2026-03-03")) == [str(after.pk)]
    assert ids(client.get("/api/v1/runs?until=2026-02-28")) == [str(before.pk)]
    # one day: since and until the same date
    assert ids(client.get("/api/v1/runs?since=2026-03-01&until=2026-03-01")) == [str(first.pk)]


def test_since_and_until_date_times_are_inclusive_and_utc_without_an_offset(client, add_run):
    add_run(dt.datetime(2026, 3, 1, 9, 59, tzinfo=dt.UTC))
    ten = add_run(dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC))
    eleven = add_run(dt.datetime(2026, 3, 1, 11, 0, tzinfo=dt.UTC))
    add_run(dt.datetime(2026, 3, 1, 11, 0, 0, 1, tzinfo=dt.UTC))

    assert ids(client.get("/api/v1/runs?since=2026-03-01T10:00:00&until=2026-03-01T11:00:00")) == [
        str(eleven.pk),
        str(ten.pk),
    ]
    # 12:00 at +01:00 is 11:00 UTC; the + is percent-encoded, as a query string needs
    assert ids(client.get("/api/v1/runs?since=2026-03-01T10:00Z&until=2026-03-01T12:00%2B01:00")) == [
        str(eleven.pk),
        str(ten.pk),
    ]


def test_filters_combine_with_workflow_and_status(client, add_run, workspace, owner):
    other_flow = Workflow.objects.create(workspace=workspace, name="Other", draft_graph=GRAPH, created_by=owner)
    match = add_run(T0, trigger="webhook", version=2, status="failed")
    add_run(T0 + dt.timedelta(minutes=1), trigger="webhook", version=2, status="succeeded")
    add_run(T0 + dt.timedelta(minutes=2), trigger="api", version=2, status="failed")
    add_run(T0 + dt.timedelta(minutes=3), trigger="webhook", version=1, status="failed")
    add_run(T0 - dt.timedelta(days=2), trigger="webhook", version=2, status="failed")
    add_run(T0 + dt.timedelta(minutes=4), trigger="webhook", version=2, status="failed", wf=other_flow)
    wf = match.workflow_id

    query = f"workflow={wf}&status=failed&trigger=webhook&version=2&since=2026-03-01&until=2026-03-01"
    assert ids(client.get(f"/api/v1/runs?{query}")) == [str(match.pk)]
    # the per-workflow route takes the same filters
    same = "status=failed&trigger=webhook&version=2&since=2026-03-01&until=2026-03-01"
    assert ids(client.get(f"/api/v1/workflows/{wf}/runs?{same}")) == [str(match.pk)]


def test_paging_through_a_trigger_filter_returns_every_match_once_in_order(client, add_run):
    # given 120 runs, one a minute, every third a webhook run
    runs = [add_run(T0 + dt.timedelta(minutes=i), trigger="webhook" if i % 3 == 0 else "api") for i in range(120)]
    expected = [str(r.pk) for r in reversed(runs[::3])]
    assert len(expected) == 40

    # when the client pages through trigger=webhook, 15 at a time
    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/runs?trigger=webhook&limit=15" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(url)
        seen += ids(response)
        pages += 1
        cursor = response.json()["next_cursor"]
        if not cursor:
            break

    # then it sees exactly the 40 webhook runs, newest first, none twice, in 3 pages
    assert seen == expected
    assert pages == 3


def test_paging_with_a_date_range_stays_inside_the_range(client, add_run):
    runs = [add_run(T0 + dt.timedelta(hours=6 * i), version=1 + i % 2) for i in range(20)]  # 5 days
    inside = [
        r for r in runs if Run.objects.get(pk=r.pk).created_at.date() in (dt.date(2026, 3, 2), dt.date(2026, 3, 3))
    ]
    query = "since=2026-03-02&until=2026-03-03&version=2&limit=2"

    seen, cursor = [], None
    while True:
        response = client.get(f"/api/v1/runs?{query}" + (f"&cursor={cursor}" if cursor else ""))
        seen += ids(response)
        cursor = response.json()["next_cursor"]
        if not cursor:
            break

    assert seen == newest_first(*[r for r in inside if r.version.number == 2])
    assert len(seen) == 4


def test_runs_of_another_workspace_never_appear_whatever_the_filters(client, add_run, make_workspace, make_user):
    stranger = make_user()
    elsewhere = make_workspace(name="Elsewhere", owner=stranger)
    foreign = Workflow.objects.create(workspace=elsewhere, name="Foreign", draft_graph=GRAPH, created_by=stranger)
    mine = add_run(T0, trigger="webhook", version=1)
    add_run(T0 + dt.timedelta(minutes=1), trigger="webhook", version=1, wf=foreign)
    add_run(T0 + dt.timedelta(minutes=2), trigger="webhook", version=None, wf=foreign)

    for query in ("", "trigger=webhook", "version=1", "since=2026-03-01&until=2026-03-01"):
        assert ids(client.get(f"/api/v1/runs?{query}")) == [str(mine.pk)], query
    assert ids(client.get("/api/v1/runs?version=draft")) == []
    # naming the foreign workflow does not reach it either
    assert ids(client.get(f"/api/v1/runs?workflow={foreign.pk}&trigger=webhook")) == []
    assert client.get(f"/api/v1/workflows/{foreign.pk}/runs?trigger=webhook").status_code == 404


@pytest.mark.parametrize(
    "query,field",
    [
        ("version=abc", "version"),
        ("version=0", "version"),
        ("version=-1", "version"),
        ("version=1.5", "version"),
        ("trigger=carrier-pigeon", "trigger"),
        ("trigger=webhook,nope", "trigger"),
        ("status=finished", "status"),
        ("since=not-a-date", "since"),
        ("since=2026-02-30", "since"),
        ("until=yesterday", "until"),
        ("since=2026-03-02&until=2026-03-01", "since"),
        ("since=2026-03-01T12:00Z&until=2026-03-01T11:59Z", "since"),
        ("limit=many", "limit"),
    ],
)
def test_a_bad_filter_value_is_a_400_naming_the_field(client, add_run, workflow, query, field):
    add_run(T0)

    for url in (f"/api/v1/runs?{query}", f"/api/v1/workflows/{workflow.pk}/runs?{query}"):
        response = client.get(url)

        assert response.status_code == 400, url
        body = response.json()
        assert body["error"]["code"] == "validation_error"
        assert [d["field"] for d in body["error"]["details"]] == [field]


def test_empty_filter_values_mean_no_filter(client, add_run):
    run = add_run(T0, trigger="webhook", version=1)

    assert ids(client.get("/api/v1/runs?version=&trigger=&since=&until=&status=")) == [str(run.pk)]


def test_the_schema_documents_the_run_list_filters(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    paths = response.json()["paths"]

    for path in ("/api/v1/runs", "/api/v1/workflows/{workflow_id}/runs"):
        names = {p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}
        assert {"status", "version", "trigger", "since", "until", "cursor", "limit"} <= names, path
    until = next(p for p in paths["/api/v1/runs"]["get"]["parameters"] if p["name"] == "until")
    assert "end of that day in UTC" in until["description"]
