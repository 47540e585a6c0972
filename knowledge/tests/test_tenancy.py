"""Another workspace's knowledge bases, files and search answer 404 everywhere, and nothing changes."""

import pytest

from knowledge.models import Chunk, KnowledgeBase, KnowledgeFile
from knowledge.tests.conftest import settled, upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def foreign(make_user, make_workspace, client_for, make_kb):
    owner = make_user()
    workspace = make_workspace(name="Other", owner=owner)
    client = client_for(owner, workspace)
    kb = make_kb("Secrets", client=client)
    file = upload(client, kb["id"], "salaries.txt", b"The CEO earns a lot.").json()
    settled(client, kb["id"], file["id"])
    return kb, file


def test_another_workspaces_knowledge_base_files_and_search_answer_404(kb_client, foreign):
    kb, file = foreign
    base = f"/api/v1/knowledge-bases/{kb['id']}"
    answers = [
        kb_client.get(base),
        kb_client.patch(base, {"name": "Mine"}, format="json"),
        kb_client.delete(base),
        kb_client.get(f"{base}/files"),
        upload(kb_client, kb["id"], "x.txt", b"injected"),
        kb_client.get(f"{base}/files/{file['id']}"),
        kb_client.delete(f"{base}/files/{file['id']}"),
        kb_client.post(f"{base}/search", {"query": "CEO earns"}, format="json"),
        kb_client.get(f"{base}/files/{file['id']}/content"),
        kb_client.get(f"{base}/chunks/{Chunk.objects.get().pk}"),
    ]
    assert [a.status_code for a in answers] == [404] * 10
    assert {a.json()["error"]["code"] for a in answers} == {"not_found"}
    assert kb_client.get("/api/v1/knowledge-bases").json() == []
    assert KnowledgeBase.objects.get().name == "Secrets"
    assert KnowledgeFile.objects.get().name == "salaries.txt"
    assert Chunk.objects.count() == 1


def test_a_file_of_one_knowledge_base_is_not_reachable_through_another(kb_client, make_kb):
    mine = make_kb("Mine")
    theirs = make_kb("Theirs")
    file = upload(kb_client, theirs["id"], "a.txt", b"hello").json()
    settled(kb_client, theirs["id"], file["id"])
    assert kb_client.get(f"/api/v1/knowledge-bases/{mine['id']}/files/{file['id']}").status_code == 404
    assert kb_client.get(f"/api/v1/knowledge-bases/{mine['id']}/files/{file['id']}/content").status_code == 404
    chunk = Chunk.objects.get()
    assert kb_client.get(f"/api/v1/knowledge-bases/{mine['id']}/chunks/{chunk.pk}").status_code == 404
    assert kb_client.delete(f"/api/v1/knowledge-bases/{mine['id']}/files/{file['id']}").status_code == 404
    assert KnowledgeFile.objects.count() == 1


def test_an_api_token_of_another_workspace_cannot_search(foreign, owner, workspace):
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    kb, _file = foreign
    _token, raw = api_token_create(workspace=workspace, user=owner, name="cli")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = client.post(f"/api/v1/knowledge-bases/{kb['id']}/search", {"query": "CEO"}, format="json")
    assert response.status_code == 404
