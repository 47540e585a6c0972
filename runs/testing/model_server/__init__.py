"""A small, deterministic OpenAI-compatible model server for tests and keyless demos.

It speaks the real wire protocol (Responses and Chat Completions, JSON and SSE streaming, function
tools, JSON-schema output, usage, moderations, embeddings, models) so the real `openai` SDK is exercised end
to end. Embeddings are a hashed bag-of-words projection (`embeddings.py`): deterministic, with a real
lexical signal.

Behaviour, all deterministic:
* text replies echo the last user message (`You said: …`);
* when the prompt mentions a tool by name and no tool result is in the conversation yet, the model calls
  that tool once (arguments built from its JSON Schema); given a tool result it answers with it;
* with a JSON-schema output it returns an object valid for the schema; string fields named like
  intent/category/label are classified by keyword (refund, billing, bug, …) or picked from their enum;
  numeric `score`/`probability` fields rate jailbreak phrasing; booleans named passed/pass/ok are false
  when the text contains insulting words;
* magic phrases inject faults: `[[fail:429]]` (with Retry-After), `[[fail:500]]`, `[[fail-once:429]]` /
  `[[fail-once:500]]` (only the first matching request fails), `[[slow]]` (a long, slow stream),
  `[[hang]]` (no answer for 30 s), `[[invalid-json]]` (first structured answer breaks the schema),
  `[[always-invalid-json]]`. The header `X-Test-Fault: 429|500|slow|hang` does the same.
* the API key `bad-key` is rejected with 401;
* an eval judge (a json_schema format named `trellis_grader`) scores `Output:` against `Expected:`
  (`[[no-score]]` answers without a score);
* `/v1/files` and `/v1/fine_tuning/jobs` (create, retrieve, list, events, cancel) fine-tune
  deterministically: a job advances one state per retrieve and its `ft:` model is then listed and
  answers `Fine-tuned answer: …` instead of `You said: …`.

Run it: `python -m runs.testing.model_server --port 8765`, then point a provider at
`http://127.0.0.1:8765/v1` with any API key.

Modules: `server` (HTTP server, routing, the `ModelServer` thread wrapper), `conversation` (a request
read into protocol-independent form), `replies` (the fake model's canned decisions), `faults` (fault
injection), `sse` (event-stream plumbing), `responses`, `chat` and `moderations` (one endpoint each),
`finetuning` (files and fine-tuning jobs), `__main__` (the command line).
"""

from runs.testing.model_server.server import ModelServer

__all__ = ["ModelServer"]
