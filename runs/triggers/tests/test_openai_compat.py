"""The official `openai` SDK, pointed at a live Trellis, talks to a published agent workflow."""

import openai
import pytest
from openai import OpenAI

from accounts.services import api_token_create
from runs.models import Run
from runs.testing.graphs import START_SCHEMA, agent_graph

AGENT_GRAPH = agent_graph("bot", schema=START_SCHEMA, output="nodes.bot.output")


@pytest.fixture
def agent(make_workflow, settings, model_server, monkeypatch):
    from dataclasses import replace

    import runs.process_engine
    from runs.engine.core import Limits

    # The engine coalesces token deltas for 50 ms; the local model streams faster than that, so
    # without this every reply would arrive as one piece and streaming could not be told apart.
    from_settings = Limits.from_settings
    monkeypatch.setattr(Limits, "from_settings", classmethod(lambda cls: replace(from_settings(), delta_interval_s=0)))
    monkeypatch.setattr(runs.process_engine, "_engine", None)
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = model_server.base_url
    return make_workflow(graph=AGENT_GRAPH, name="Support bot")


@pytest.fixture
def client(live_url, workspace, editor):
    _, raw = api_token_create(workspace=workspace, user=editor, name="sdk")
    return OpenAI(base_url=f"{live_url}/v1", api_key=raw, max_retries=0, timeout=30)


def test_chat_completions_reply_with_the_run_output_and_usage(client, agent):
    completion = client.chat.completions.create(
        model=f"workflow:{agent.pk}",
        messages=[{"role": "system", "content": "be nice"}, {"role": "user", "content": "where is my parcel?"}],
    )

    run = Run.objects.get()
    assert completion.choices[0].message.role == "assistant"
    assert completion.choices[0].message.content == run.output
    assert "where is my parcel?" in completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens == run.usage["input_tokens"] > 0
    assert completion.usage.completion_tokens == run.usage["output_tokens"] > 0
    assert run.input["message"] == "where is my parcel?"
    assert run.input["messages"][0] == {"role": "system", "content": "be nice"}
    assert run.trigger["type"] == "openai"


def test_chat_completions_stream_the_agent_tokens(client, agent):
    stream = client.chat.completions.create(
        model=f"workflow:{agent.pk}",
        messages=[{"role": "user", "content": "stream me"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    run = Run.objects.get()
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == run.output
    assert len(pieces) > 1  # streamed token by token, not one final blob
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.completion_tokens == run.usage["output_tokens"] > 0


def test_responses_api_with_and_without_streaming(client, agent):
    response = client.responses.create(model=f"workflow:{agent.pk}", input="hello there")

    assert "hello there" in response.output_text
    assert response.usage.output_tokens > 0

    with client.responses.stream(model=f"workflow:{agent.pk}", input="and streamed") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()

    assert len(deltas) > 1
    assert "".join(deltas) == final.output_text
    assert "and streamed" in final.output_text
    assert Run.objects.count() == 2


def test_a_workflow_can_be_named_by_its_name_and_version(client, agent):
    completion = client.chat.completions.create(
        model="workflow:support-bot@1", messages=[{"role": "user", "content": "by name"}]
    )

    assert "by name" in completion.choices[0].message.content


def test_a_bad_token_is_refused_and_nothing_runs(live_url, agent):
    bad = OpenAI(base_url=f"{live_url}/v1", api_key="trl_wrong", max_retries=0)

    with pytest.raises(openai.AuthenticationError):
        bad.chat.completions.create(model=f"workflow:{agent.pk}", messages=[{"role": "user", "content": "hi"}])
    assert Run.objects.count() == 0


def test_an_unknown_workflow_is_a_404(client, agent):
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="workflow:nope", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert Run.objects.count() == 0


def test_a_viewer_token_may_not_run_workflows(live_url, workspace, viewer, agent):
    _, raw = api_token_create(workspace=workspace, user=viewer, name="ro")
    client = OpenAI(base_url=f"{live_url}/v1", api_key=raw, max_retries=0)

    with pytest.raises(openai.PermissionDeniedError):
        client.chat.completions.create(model=f"workflow:{agent.pk}", messages=[{"role": "user", "content": "hi"}])
    assert Run.objects.count() == 0


def test_models_lists_the_published_workflows(client, agent, make_workflow):
    make_workflow(published=False, name="Unpublished")

    listed = client.models.list()

    assert [m.id for m in listed.data] == [f"workflow:{agent.pk}"]


# --- the hand-written lookups before a streamed answer's first token -----------------------------------------


@pytest.mark.django_db
def test_the_token_lookup_finds_live_tokens_only_with_the_role_its_user_has_now(workspace, editor, make_workspace):
    from accounts.authentication import token_lookup
    from accounts.services import api_token_revoke

    token, raw = api_token_create(workspace=workspace, user=editor, name="t")
    found = token_lookup(raw, with_role=True)
    assert (found.pk, found.user, found.role, found.workspace_id) == (token.pk, editor, "editor", workspace.pk)
    assert found.last_used_at is not None
    # no longer a member: found, with no role (require_token_role refuses it)
    workspace.memberships.filter(user=editor).delete()
    assert token_lookup(raw, with_role=True).role is None
    # a user made inactive, a revoked token, an unknown one: nothing
    editor.is_active = False
    editor.save()
    assert token_lookup(raw, with_role=True) is None
    editor.is_active = True
    editor.save()
    api_token_revoke(token=token)
    assert token_lookup(raw, with_role=True) is None
    assert token_lookup("trl_" + "x" * 40, with_role=True) is None


@pytest.mark.django_db
def test_a_workflow_is_found_by_id_or_one_name_in_the_tokens_workspace_only(
    workspace, editor, make_workflow, make_workspace
):
    from builder.models import Workflow
    from runs.triggers.openai_compat import _workflow_for
    from trellis.errors import ApplicationError

    token, _ = api_token_create(workspace=workspace, user=editor, name="t")
    bot = make_workflow(graph=AGENT_GRAPH, name="Support Bot")
    assert _workflow_for(token, str(bot.pk)) == bot
    found = _workflow_for(token, "SUPPORT-bot")
    assert found == bot and found.published_version.graph == bot.published_version.graph

    def missing(ref: str) -> bool:
        try:
            _workflow_for(token, ref)
        except ApplicationError as error:
            return error.status == 404
        return False

    other = make_workflow(graph=AGENT_GRAPH, name="Elsewhere")
    Workflow.objects.filter(pk=other.pk).update(workspace=make_workspace())
    assert missing(str(other.pk)) and missing("elsewhere")  # another workspace's
    twin = make_workflow(graph=AGENT_GRAPH, name="support bot")
    assert missing("support bot")  # two match: ambiguous
    assert _workflow_for(token, str(twin.pk)) == twin
    Workflow.objects.filter(pk=bot.pk).update(archived_at="2026-01-01T00:00:00Z")
    assert missing(str(bot.pk))
    assert _workflow_for(token, "Support Bot") == twin  # the archived one no longer counts
    assert missing("50%") and missing("support_bot")  # no wildcards
