"""Issue 16, steps 6-8 in the browser: export SFT JSONL (validated), launch a fine-tune on the local model
server and watch it finish, switch the agent to the ft: model, eval again and compare.

A Trellis server of its own: its workspace provider must reach the model server on loopback, which the
SSRF guard blocks unless TRELLIS_HTTP_ALLOWLIST names it (the shared e2e server keeps the default)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import e2e_database_url, e2e_server, login
from tests.e2e.screens import Api, graph

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ft_server(frontend_built, model_server, tmp_path_factory):
    env = {
        "DATABASE_URL": e2e_database_url("_e2e_finetune"),
        "TRELLIS_VAR_DIR": str(tmp_path_factory.mktemp("var-ft")),
        "TRELLIS_DEMO_MODEL_URL": model_server,
        "TRELLIS_DEMO_MODEL_STYLE": "chat_completions",
        "TRELLIS_FINETUNE_MIN_EXAMPLES": "5",
        "TRELLIS_SCHEDULE_TICK_S": "0.5",
    }
    with e2e_server(env, "e2e-finetune-server.log") as url:
        yield url


@pytest.fixture
def ft_page(browser, ft_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=ft_server)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def test_an_sft_export_is_fine_tuned_on_the_local_server_and_the_ft_model_is_evaluated(ft_page, shot):
    page = ft_page
    login(page)
    api = Api(page)
    agent = {
        "id": "answer",
        "type": "agent",
        "name": "Answer",
        "config": {"model": "gpt-4.1-mini", "instructions": "{{ workflow.input.message }}"},
    }
    wf = api.workflow("Fine-tune me", graph(agent, end_output={"text": "nodes.answer.output"}), publish="v1")
    runs = [api.run(wf, f"tell me about item {i}, mail bob@example.com", wait=15) for i in range(8)]
    assert {r["status"] for r in runs} == {"succeeded"}
    for r in runs:
        api.call("POST", f"runs/{r['id']}/feedback", {"score": 1})

    # 6. export SFT JSONL from the liked runs: validated, counted, masked
    page.goto(f"/workflows/{wf}/evals")
    panel = page.get_by_label("Fine-tuning")
    panel.get_by_label("Feedback filter").select_option("up")
    panel.get_by_role("button", name="Export JSONL").click()
    result = panel.get_by_label("Export result")
    expect(result).to_contain_text("8 examples")
    expect(result).to_contain_text("16 piece(s) of PII or secrets were masked.")  # prompt and echo
    exported = api.call("GET", f"workflows/{wf}/finetune-exports")[0]
    assert exported["tokens"] > 0 and exported["estimated_cost"] > 0

    # 7. launch it on the local server's provider and watch it finish (the scheduler thread polls it)
    panel.get_by_role("button", name="Launch fine-tune").click()
    jobs = panel.get_by_role("table", name="Fine-tuning jobs")
    expect(jobs.locator("tbody tr").first).to_contain_text("succeeded", timeout=30_000)
    expect(jobs.locator("tbody tr").first).to_contain_text("ft:gpt-4.1-mini:trellis::")
    shot(page, "63-finetune-succeeded")

    # 8. switch the agent to the ft: model in the draft, eval v1 and the draft, and compare
    panel.get_by_role("button", name="Try it in a draft").click()
    expect(panel.get_by_role("status").filter(has_text="now uses the fine-tuned model")).to_be_visible()
    draft = api.call("GET", f"workflows/{wf}/draft")
    model = next(n for n in draft["graph"]["nodes"] if n["id"] == "answer")["config"]["model"]
    assert model.startswith("ft:gpt-4.1-mini:trellis::")
    page.get_by_label("New dataset name").fill("ft check")
    page.get_by_role("button", name="Create dataset").click()
    page.get_by_label("Import items").set_input_files(
        files=[
            {
                "name": "items.csv",
                "mimeType": "text/csv",
                "buffer": b'message,expected\nhello,"{""text"": ""Fine-tuned answer: hello""}"\n',
            }
        ]
    )
    expect(page.get_by_role("status").filter(has_text="Imported 1 items.")).to_be_visible()
    expect(page.get_by_role("table", name="Dataset items").locator("tbody tr")).to_have_count(1)
    evals = page.get_by_role("table", name="Eval runs")
    page.get_by_label("Version to evaluate").select_option("1")
    page.get_by_role("button", name="Run eval").click()
    expect(evals.locator("tbody tr").first).to_contain_text("0%", timeout=30_000)
    page.get_by_label("Version to evaluate").select_option("draft")
    page.get_by_role("button", name="Run eval").click()
    expect(evals.locator("tbody tr")).to_have_count(2)
    expect(evals.locator("tbody tr").first).to_contain_text("100%", timeout=30_000)
    ids = [e["id"] for e in api.call("GET", f"workflows/{wf}/evals")]
    page.get_by_label("Baseline eval").select_option(ids[1])
    page.get_by_label("Candidate eval").select_option(ids[0])
    expect(page.get_by_label("Comparison").get_by_role("status")).to_contain_text("0 regressions, 1 improvement")
    shot(page, "64-finetune-compare")
