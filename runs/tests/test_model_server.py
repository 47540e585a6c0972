"""The local model server speaks OpenAI's wire protocol: every path checked with the real `openai` SDK."""

import json

import openai
import pytest
from openai import OpenAI

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather for a city",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
TRIAGE_SCHEMA = {
    "type": "object",
    "properties": {"intent": {"type": "string"}, "urgent": {"type": "boolean"}},
    "required": ["intent", "urgent"],
    "additionalProperties": False,
}


@pytest.fixture
def client(model_server_url):
    return OpenAI(api_key="test-key", base_url=model_server_url, max_retries=0)


def test_responses_create_echoes_the_user_message_with_usage(client):
    response = client.responses.create(model="gpt-4.1-mini", input="Where is my parcel?")

    assert response.output_text == "You said: Where is my parcel?"
    assert response.status == "completed"
    assert response.usage.input_tokens == 5
    assert response.usage.output_tokens == 8
    assert response.usage.total_tokens == 13


def test_responses_stream_yields_text_deltas_and_a_final_response(client):
    with client.responses.stream(model="gpt-4.1-mini", input="hello there") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()

    assert deltas == ["You ", "said: ", "hello ", "there"]
    assert final.output_text == "You said: hello there"
    assert final.usage.output_tokens == 6


def test_responses_tool_call_then_answer_from_the_tool_result(client):
    first = client.responses.create(model="m", input="Use get_weather for Paris", tools=[WEATHER_TOOL])
    call = first.output[0]
    assert call.type == "function_call"
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Use get_weather for Paris"}

    history = [
        {"role": "user", "content": "Use get_weather for Paris"},
        call.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21C"},
    ]
    second = client.responses.create(model="m", input=history, tools=[WEATHER_TOOL])

    assert second.output_text == "The get_weather tool returned: sunny, 21C"


def test_responses_streamed_tool_call_arguments_accumulate(client):
    with client.responses.stream(model="m", input="call get_weather please", tools=[WEATHER_TOOL]) as stream:
        types = [event.type for event in stream]
        final = stream.get_final_response()

    assert types[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert "response.function_call_arguments.done" in types
    assert types[-1] == "response.completed"
    assert json.loads(final.output[0].arguments) == {"city": "call get_weather please"}


def test_responses_json_schema_output_is_valid_and_classified_by_keyword(client):
    response = client.responses.create(
        model="m",
        input="I was charged twice on my invoice",
        text={"format": {"type": "json_schema", "name": "triage", "schema": TRIAGE_SCHEMA, "strict": True}},
    )

    assert json.loads(response.output_text) == {"intent": "billing", "urgent": True}


def test_enum_fields_pick_the_matching_choice(client):
    schema = {"type": "object", "properties": {"intent": {"enum": ["question", "refund", "other"]}}}
    response = client.responses.create(
        model="m",
        input="I want my money back",
        text={"format": {"type": "json_schema", "name": "x", "schema": schema}},
    )

    assert json.loads(response.output_text) == {"intent": "refund"}


def test_chat_completions_stream_with_usage(client):
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi bob"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: hi bob"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].usage.completion_tokens == 4


def test_chat_completions_tool_call_streamed_and_plain(client):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_TOOL["parameters"]}}]
    messages = [{"role": "user", "content": "get_weather in Oslo"}]

    plain = client.chat.completions.create(model="m", messages=messages, tools=tools)
    with client.chat.completions.stream(model="m", messages=messages, tools=tools) as stream:
        for _ in stream:
            pass
        streamed = stream.get_final_completion()

    assert plain.choices[0].finish_reason == "tool_calls"
    assert plain.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert streamed.choices[0].message.tool_calls[0].function.arguments == '{"city": "get_weather in Oslo"}'
    answer = client.chat.completions.create(
        model="m",
        messages=[
            *messages,
            plain.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": plain.choices[0].message.tool_calls[0].id, "content": "snow"},
        ],
        tools=tools,
    )
    assert answer.choices[0].message.content == "The get_weather tool returned: snow"


def test_chat_completions_json_schema_response_format(client):
    completion = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "The app crashes on login"}],
        response_format={"type": "json_schema", "json_schema": {"name": "t", "schema": TRIAGE_SCHEMA}},
    )

    assert json.loads(completion.choices[0].message.content) == {"intent": "bug", "urgent": True}


def test_moderations_and_models(client):
    flagged = client.moderations.create(input="I will kill you")
    clean = client.moderations.create(input="Have a nice day")

    assert flagged.results[0].flagged is True
    assert flagged.results[0].categories.violence is True
    assert clean.results[0].flagged is False
    assert "gpt-4.1-mini" in [m.id for m in client.models.list()]


def test_injected_failures_map_to_sdk_errors(client, model_server):
    with pytest.raises(openai.RateLimitError) as rate_limited:
        client.responses.create(model="m", input="[[fail:429]]")
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "[[fail:500]]"}])
    with pytest.raises(openai.AuthenticationError):
        OpenAI(api_key="bad-key", base_url=model_server.base_url, max_retries=0).responses.create(model="m", input="x")

    assert rate_limited.value.response.headers["retry-after"] == "1"
    assert model_server.stats["faults"] == 2


def test_fail_once_fails_only_the_first_identical_request(client):
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="m", input="[[fail-once:500]] hello")

    assert client.responses.create(model="m", input="[[fail-once:500]] hello").output_text.startswith("You said:")


def test_the_server_runs_as_a_module(tmp_path):
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "runs.testing.model_server", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert b"Local test model server" in proc.stdout.readline()
        client = OpenAI(api_key="k", base_url=f"http://127.0.0.1:{port}/v1", max_retries=2)
        for _ in range(50):
            try:
                reply = client.responses.create(model="m", input="ping")
                break
            except openai.APIConnectionError:
                time.sleep(0.1)
        assert reply.output_text == "You said: ping"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_template_shaped_schemas_get_sensible_answers(client):
    intent = {"type": "object", "properties": {"intent": {"enum": ["refund", "technical", "other"]}}}
    lead = {
        "type": "object",
        "properties": {
            "score": {"type": "integer", "minimum": 0, "maximum": 100},
            "company_size": {"enum": ["small", "medium", "large", "unknown"]},
        },
    }

    def ask(text, schema):
        fmt = {"format": {"type": "json_schema", "name": "x", "schema": schema}}
        return json.loads(client.responses.create(model="m", input=text, text=fmt).output_text)

    assert ask("I cannot login, the app shows an error", intent) == {"intent": "technical"}
    assert ask("What are your opening hours?", intent) == {"intent": "other"}
    assert ask("Lead from a large bank", lead) == {"score": 50, "company_size": "large"}


def test_faults_can_be_injected_by_header(model_server_url):
    client = OpenAI(api_key="k", base_url=model_server_url, max_retries=0, default_headers={"X-Test-Fault": "503"})

    with pytest.raises(openai.InternalServerError) as failed:
        client.responses.create(model="m", input="hello")

    assert failed.value.status_code == 503


def test_the_sdk_retry_after_a_429_succeeds_on_fail_once(model_server_url, model_server):
    client = OpenAI(api_key="k", base_url=model_server_url, max_retries=1)

    reply = client.responses.create(model="m", input="[[fail-once:429]] hi")

    assert reply.output_text == "You said: [[fail-once:429]] hi"
    assert len(model_server.requests) == 2
