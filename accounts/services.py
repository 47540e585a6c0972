"""Writes for accounts: users, workspaces, memberships, API tokens and secrets."""

from django.db import transaction
from django.utils.text import slugify

from accounts import crypto
from accounts.models import ApiToken, Membership, Role, Secret, User, Workspace
from accounts.tokens import hash_token, new_token
from trellis.errors import ApplicationError


def user_create(*, email: str, password: str, name: str = "") -> User:
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ApplicationError("email_taken", "An account with this email already exists.", status=409)
    return User.objects.create_user(email=email, password=password, name=name)


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def workspace_create(*, name: str, owner: User, slug: str | None = None) -> Workspace:
    name = name.strip()
    if not name:
        raise ApplicationError("validation_error", "A workspace needs a name.", [{"field": "name"}])
    if slug and Workspace.objects.filter(slug=slug).exists():
        raise ApplicationError("slug_taken", f"The workspace slug {slug!r} is taken.", status=409)
    workspace = Workspace.objects.create(name=name, slug=slug or _unique_slug(name))
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    return workspace


def membership_add(*, workspace: Workspace, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    return membership


def api_token_create(*, workspace: Workspace, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token, which is never retrievable again."""
    if not Membership.objects.filter(workspace=workspace, user=user).exists():
        raise ApplicationError("not_a_member", "Tokens can only be made for a workspace you belong to.", status=404)
    raw = new_token()
    token = ApiToken.objects.create(
        workspace=workspace, user=user, name=name.strip() or "token", prefix=raw[:10], token_hash=hash_token(raw)
    )
    return token, raw


def secret_set(*, workspace: Workspace, name: str, value: str, by: User | None = None) -> Secret:
    secret, _ = Secret.objects.update_or_create(
        workspace=workspace, name=name, defaults={"ciphertext": crypto.encrypt(value), "created_by": by}
    )
    return secret


def secret_value(*, workspace_id, name: str) -> str:
    """Decrypted value for executors' credential fields. Raises ApplicationError if missing."""
    secret = Secret.objects.filter(workspace_id=workspace_id, name=name).first()
    if secret is None:
        raise ApplicationError("secret_not_found", f"No secret named {name!r} in this workspace.", status=404)
    return crypto.decrypt(secret.ciphertext)
