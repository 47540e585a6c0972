"""The embed script: served on its own, small, and free of the app bundle."""

import gzip

from chat.views import STATIC

BUDGET_GZIPPED = 15 * 1024


def test_the_embed_script_stays_under_15_kb_gzipped():
    source = (STATIC / "embed.js").read_bytes()

    size = len(gzip.compress(source, compresslevel=9))

    assert size < BUDGET_GZIPPED, f"embed.js is {size} bytes gzipped; the budget is {BUDGET_GZIPPED}"


def test_the_embed_script_is_served_as_javascript_without_the_app_bundle(client, db):
    response = client.get("/chat/embed.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    body = response.content.decode()
    assert body == (STATIC / "embed.js").read_text()
    assert "/assets/" not in body and "import " not in body  # no module of the app's Vite build
