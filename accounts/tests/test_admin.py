import pytest
from django.test import Client

from accounts.models import User


@pytest.mark.django_db
def test_the_admin_lists_accounts_without_showing_hashes_or_ciphertext(make_user, workspace):
    from accounts.services import api_token_create, secret_set

    staff = User.objects.create_superuser(email="root@example.com", password="x-Long-pass-1")
    _, raw = api_token_create(workspace=workspace, user=workspace.memberships.get().user, name="t")
    secret_set(workspace=workspace, name="K", value="admin-must-not-see")
    client = Client()
    client.force_login(staff)

    pages = [client.get(f"/admin/accounts/{model}/") for model in ("user", "workspace", "apitoken", "secret")]
    token_page = client.get(f"/admin/accounts/apitoken/{workspace.api_tokens.get().pk}/change/")
    secret_page = client.get(f"/admin/accounts/secret/{workspace.secrets.get().pk}/change/")

    assert [p.status_code for p in pages] == [200, 200, 200, 200]
    assert raw not in token_page.content.decode() and "token_hash" not in token_page.content.decode()
    assert "admin-must-not-see" not in secret_page.content.decode()
    assert "ciphertext" not in secret_page.content.decode()
