"""The knowledge-base API: CRUD, uploads of every supported format, and bad input."""

import json

import pytest

from knowledge.models import Chunk, KnowledgeFile
from knowledge.tests import documents
from knowledge.tests.conftest import settled, upload

pytestmark = pytest.mark.django_db(transaction=True)

HTML = (
    b"<html><head><title>x</title><script>var a=1</script></head>"
    b"<body><h2>Refunds</h2><p>Refunds take five days.</p></body></html>"
)


def test_a_knowledge_base_is_created_listed_renamed_and_deleted(kb_client, make_kb):
    kb = make_kb("Handbook", description="HR policies", embedding={"dimensions": 64})
    assert kb["embedding"] == {"provider": "", "model": "text-embedding-3-small", "dimensions": 64}
    assert kb["files"] == {"total": 0, "queued": 0, "processing": 0, "ready": 0, "failed": 0}

    listed = kb_client.get("/api/v1/knowledge-bases").json()
    assert [k["name"] for k in listed] == ["Handbook"]

    renamed = kb_client.patch(f"/api/v1/knowledge-bases/{kb['id']}", {"name": "People"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "People"

    assert kb_client.delete(f"/api/v1/knowledge-bases/{kb['id']}").status_code == 204
    assert kb_client.get(f"/api/v1/knowledge-bases/{kb['id']}").status_code == 404


def test_two_knowledge_bases_cannot_share_a_name(kb_client, make_kb):
    make_kb("Docs")
    response = kb_client.post("/api/v1/knowledge-bases", {"name": "Docs"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    ("name", "data", "expected_text", "expected_metadata"),
    [
        (
            "guide.pdf",
            documents.pdf_with_text(["Intro page", "Refunds take five days"]),
            "Refunds take five days",
            {"page": 2},
        ),
        (
            "guide.docx",
            documents.docx("Refunds", ["Refunds take five days."]),
            "Refunds take five days.",
            {"heading": "Refunds"},
        ),
        (
            "guide.html",
            HTML,
            "Refunds take five days.",
            {"heading": "Refunds"},
        ),
        (
            "guide.md",
            b"# Intro\nHello.\n\n## Refunds\nRefunds take five days.\n",
            "Refunds take five days.",
            {"heading": "Refunds"},
        ),
        ("guide.txt", b"Refunds take five days.", "Refunds take five days.", {}),
        (
            "guide.csv",
            b"topic,answer\nrefunds,Refunds take five days\n",
            "topic: refunds; answer: Refunds take five days",
            {},
        ),
        (
            "guide.json",
            json.dumps([{"topic": "refunds", "answer": "Refunds take five days"}]).encode(),
            '"answer": "Refunds take five days"',
            {},
        ),
    ],
)
def test_each_supported_format_is_indexed_and_found(kb_client, make_kb, name, data, expected_text, expected_metadata):
    kb = make_kb()
    response = upload(kb_client, kb["id"], name, data)
    assert response.status_code == 202
    assert response.json()["status"] == "queued"

    file = settled(kb_client, kb["id"], response.json()["id"])
    assert (file["status"], file["error"]) == ("ready", "")
    assert file["chunks"] >= 1

    results = kb_client.post(
        f"/api/v1/knowledge-bases/{kb['id']}/search",
        {"query": "how long do refunds take", "mode": "keyword"},
        format="json",
    ).json()["results"]
    assert results[0]["file_name"] == name
    assert expected_text in results[0]["text"]
    for key, value in expected_metadata.items():
        assert results[0]["metadata"][key] == value


def test_a_json_upload_with_name_and_text_becomes_a_text_file(kb_client, make_kb):
    kb = make_kb()
    response = kb_client.post(
        f"/api/v1/knowledge-bases/{kb['id']}/files",
        {"name": "note", "text": "Parking is in the basement."},
        format="json",
    )
    assert response.status_code == 202
    assert (response.json()["name"], response.json()["kind"]) == ("note.txt", "text")
    assert settled(kb_client, kb["id"], response.json()["id"])["status"] == "ready"


def test_uploading_the_same_content_again_is_a_no_op(kb_client, make_kb):
    kb = make_kb()
    first = upload(kb_client, kb["id"], "a.txt", b"Same words.")
    settled(kb_client, kb["id"], first.json()["id"])
    again = upload(kb_client, kb["id"], "b.txt", b"Same words.")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert KnowledgeFile.objects.count() == 1
    assert Chunk.objects.count() == 1


def test_deleting_a_file_removes_its_chunks_and_it_is_no_longer_found(kb_client, make_kb):
    kb = make_kb()
    keep = upload(kb_client, kb["id"], "keep.txt", b"Invoices are sent monthly.")
    gone = upload(kb_client, kb["id"], "gone.txt", b"Refunds take five days.")
    settled(kb_client, kb["id"], gone.json()["id"])

    response = kb_client.delete(f"/api/v1/knowledge-bases/{kb['id']}/files/{gone.json()['id']}")

    assert response.status_code == 204
    assert list(Chunk.objects.values_list("file_id", flat=True)) == [KnowledgeFile.objects.get().pk]
    assert str(KnowledgeFile.objects.get().pk) == keep.json()["id"]
    for mode in ("keyword", "vector", "hybrid"):
        results = kb_client.post(
            f"/api/v1/knowledge-bases/{kb['id']}/search", {"query": "refunds five days", "mode": mode}, format="json"
        ).json()["results"]
        assert [r["file_name"] for r in results] == (["keep.txt"] if mode != "keyword" else [])


def test_a_corrupt_pdf_fails_with_a_reason_and_stores_no_chunks(kb_client, make_kb):
    kb = make_kb()
    response = upload(kb_client, kb["id"], "broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage")
    file = settled(kb_client, kb["id"], response.json()["id"])
    assert file["status"] == "failed"
    assert file["error"] == "The PDF is damaged and cannot be read."
    assert Chunk.objects.count() == 0


def test_a_scanned_pdf_without_text_fails_with_a_reason(kb_client, make_kb):
    kb = make_kb()
    file = settled(
        kb_client, kb["id"], upload(kb_client, kb["id"], "scan.pdf", documents.pdf_without_text()).json()["id"]
    )
    assert file["status"] == "failed"
    assert file["error"] == "Scanned PDF without a text layer: there is no text to index (OCR it first)."


def test_a_password_protected_pdf_fails_with_a_reason(kb_client, make_kb):
    kb = make_kb()
    file = settled(
        kb_client, kb["id"], upload(kb_client, kb["id"], "locked.pdf", documents.pdf_with_password()).json()["id"]
    )
    assert (file["status"], file["error"]) == ("failed", "The PDF is password-protected.")


def test_a_zip_bomb_disguised_as_docx_is_refused_before_it_is_unpacked(kb_client, make_kb, settings):
    settings.KNOWLEDGE_MAX_UNPACKED_BYTES = 1024 * 1024
    kb = make_kb()
    bomb = documents.zip_bomb_docx(20 * 1024 * 1024)
    assert len(bomb) < 100_000

    file = settled(kb_client, kb["id"], upload(kb_client, kb["id"], "report.docx", bomb).json()["id"])

    assert file["status"] == "failed"
    assert file["error"] == (
        "The DOCX unpacks to 20,971,528 bytes, more than the limit of 1,048,576 "
        "(TRELLIS_KNOWLEDGE_MAX_UNPACKED_BYTES): refused as a possible zip bomb."
    )
    assert Chunk.objects.count() == 0


def test_a_file_that_is_not_a_docx_fails_with_a_reason(kb_client, make_kb):
    kb = make_kb()
    file = settled(kb_client, kb["id"], upload(kb_client, kb["id"], "fake.docx", b"just text").json()["id"])
    assert (file["status"], file["error"]) == ("failed", "The file is damaged or not a DOCX document.")


def test_an_unsupported_file_type_is_refused_and_nothing_is_stored(kb_client, make_kb):
    kb = make_kb()
    response = upload(kb_client, kb["id"], "program.exe", b"MZ\x90\x00")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_file_type"
    assert response.json()["error"]["message"] == (
        "'program.exe' is not a supported file type (supported: PDF, DOCX, HTML, Markdown, plain text, CSV and JSON)."
    )
    assert KnowledgeFile.objects.count() == 0


def test_an_upload_declaring_more_than_the_limit_is_refused_before_its_body_is_read(kb_client, make_kb, settings):
    kb = make_kb()
    read = []

    class Body:
        def read(self, *args):
            read.append(args)
            return b""

        def readline(self, *args):
            read.append(args)
            return b""

    response = kb_client.generic(
        "POST",
        f"/api/v1/knowledge-bases/{kb['id']}/files",
        b"",
        content_type="multipart/form-data; boundary=xyz",
        CONTENT_LENGTH=str(200 * 1024 * 1024),
    )

    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "payload_too_large",
        "message": "The file is too large: the limit is 52,428,800 bytes (TRELLIS_KNOWLEDGE_MAX_FILE_BYTES).",
        "details": [],
    }
    assert KnowledgeFile.objects.count() == 0


def test_a_file_over_the_limit_without_a_declared_length_is_stopped_while_streaming(kb_client, make_kb, settings):
    settings.KNOWLEDGE_MAX_FILE_BYTES = 2048
    kb = make_kb()
    response = upload(kb_client, kb["id"], "big.txt", b"word " * 100_000)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert KnowledgeFile.objects.count() == 0


def test_a_viewer_cannot_upload(workspace, viewer, client_for, make_kb):
    kb = make_kb()
    response = upload(client_for(viewer, workspace), kb["id"], "a.txt", b"hello")
    assert response.status_code == 403
    assert KnowledgeFile.objects.count() == 0


def test_a_file_left_in_processing_by_a_dead_job_is_indexed_once_its_claim_expires(kb_client, make_kb):
    import datetime as dt

    from django.utils import timezone

    from knowledge import jobs
    from knowledge.services import ingest_resume

    kb = make_kb()
    file = upload(kb_client, kb["id"], "a.txt", b"Refunds take five days.").json()
    settled(kb_client, kb["id"], file["id"])
    # given: the file's job died after claiming it (its chunks were never committed)
    Chunk.objects.all().delete()
    KnowledgeFile.objects.update(status="processing", chunks=0, claimed_at=timezone.now() - dt.timedelta(hours=1))

    assert ingest_resume() == [kb["id"]]
    assert jobs.inline_wait_idle(30)

    again = kb_client.get(f"/api/v1/knowledge-bases/{kb['id']}/files/{file['id']}").json()
    assert (again["status"], again["chunks"]) == ("ready", 1)
    assert Chunk.objects.count() == 1


def test_a_file_claimed_a_moment_ago_is_left_to_its_job(kb_client, make_kb):
    from django.utils import timezone

    from knowledge.services import ingest_resume

    kb = make_kb()
    file = upload(kb_client, kb["id"], "a.txt", b"Refunds take five days.").json()
    settled(kb_client, kb["id"], file["id"])
    KnowledgeFile.objects.update(status="processing", claimed_at=timezone.now())

    assert ingest_resume() == []
    assert KnowledgeFile.objects.get().status == "processing"


def test_changing_the_embedding_size_re_indexes_every_file_and_search_keeps_working(kb_client, make_kb):
    kb = make_kb(embedding={"dimensions": 64})
    file = upload(kb_client, kb["id"], "a.txt", b"Refunds take five days.").json()
    settled(kb_client, kb["id"], file["id"])
    assert {len(bytes(c.embedding)) for c in Chunk.objects.all()} == {64 * 4}

    response = kb_client.patch(f"/api/v1/knowledge-bases/{kb['id']}", {"embedding": {"dimensions": 32}}, format="json")

    assert response.status_code == 200
    assert response.json()["embedding"]["dimensions"] == 32
    again = settled(kb_client, kb["id"], file["id"])
    assert (again["status"], again["chunks"]) == ("ready", 1)
    assert {len(bytes(c.embedding)) for c in Chunk.objects.all()} == {32 * 4}
    results = kb_client.post(
        f"/api/v1/knowledge-bases/{kb['id']}/search", {"query": "refunds", "mode": "vector"}, format="json"
    ).json()["results"]
    assert [r["file_name"] for r in results] == ["a.txt"]


def test_in_queue_mode_an_upload_enqueues_the_ingest_task_which_indexes_the_file(
    kb_client, make_kb, settings, monkeypatch
):
    from knowledge import tasks

    settings.TRELLIS_EXECUTOR = "celery"
    sent = []
    monkeypatch.setattr(tasks.ingest, "delay", lambda kb_id: sent.append(kb_id))
    kb = make_kb()

    file = upload(kb_client, kb["id"], "a.txt", b"Refunds take five days.").json()

    assert sent == [kb["id"]]
    assert file["status"] == "queued"
    tasks.ingest.apply(args=[kb["id"]])  # what a worker runs for that message
    again = kb_client.get(f"/api/v1/knowledge-bases/{kb['id']}/files/{file['id']}").json()
    assert (again["status"], again["chunks"]) == ("ready", 1)


def test_a_file_is_served_back_as_uploaded_and_html_only_as_a_sandboxed_download(kb_client, make_kb):
    kb = make_kb()
    pdf = documents.pdf_with_text(["Refunds take five days"])
    files = {
        name: upload(kb_client, kb["id"], name, data).json()["id"]
        for name, data in (("guide.pdf", pdf), ("page.html", HTML), ("notes.md", b"# Notes\nhello"))
    }
    base = f"/api/v1/knowledge-bases/{kb['id']}/files"

    shown = kb_client.get(f"{base}/{files['guide.pdf']}/content")
    assert shown.status_code == 200
    assert b"".join(shown.streaming_content) == pdf
    assert shown["Content-Type"] == "application/pdf"
    assert shown["Content-Disposition"].startswith("inline")

    page = kb_client.get(f"{base}/{files['page.html']}/content")
    assert page["Content-Disposition"].startswith("attachment")  # never rendered on our origin
    assert page["Content-Type"] == "application/octet-stream"
    assert page["Content-Security-Policy"].startswith("sandbox")
    assert page["X-Content-Type-Options"] == "nosniff"

    notes = kb_client.get(f"{base}/{files['notes.md']}/content")
    assert notes["Content-Type"] == "text/plain; charset=utf-8"
    assert b"".join(notes.streaming_content) == b"# Notes\nhello"
