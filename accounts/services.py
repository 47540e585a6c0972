"""Writes for accounts: users, workspaces, memberships, invitations, API tokens, secrets and the
callback signing secret.

Model providers have their own module (accounts/providers.py) because they also talk to the network."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts import crypto
from accounts.models import (
    ApiToken,
    CallbackSigningSecret,
    Invitation,
    Membership,
    Role,
    Secret,
    User,
    Workspace,
    role_at_least,
)
from accounts.tokens import hash_token, new_token
from accounts.websocket import notify_access_changed
from trellis import signing
from trellis.errors import ApplicationError

SECRET_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:\-]{0,99}$")
SECRET_MAX_BYTES = 64 * 1024
PROVIDER_SECRET_PREFIX = "provider:"  # model providers keep their API keys as secrets named provider:<id>


# --- Users -------------------------------------------------------------------------------------


def user_create(*, email: str, password: str, name: str = "") -> User:
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ApplicationError("email_taken", "An account with this email already exists.", status=409)
    return User.objects.create_user(email=email, password=password, name=name.strip())


@transaction.atomic
def user_signup(*, email: str, password: str, name: str = "") -> tuple[User, Workspace]:
    """Open sign-up: a new user gets a workspace of their own so the app has somewhere to put things."""
    user = user_create(email=email, password=password, name=name)
    label = user.name or user.email.split("@")[0]
    workspace = workspace_create(name=f"{label}'s workspace", owner=user)
    return user, workspace


# --- Workspaces --------------------------------------------------------------------------------


def _unique_slug(name: str) -> str:
    base = slugify(name)[:50] or "workspace"
    slug, n = base, 1
    while Workspace.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _clean_workspace_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ApplicationError("validation_error", "A workspace needs a name.", [{"field": "name"}])
    if len(name) > 100:
        raise ApplicationError("validation_error", "Workspace names are at most 100 characters.", [{"field": "name"}])
    return name


@transaction.atomic
def workspace_create(*, name: str, owner: User, slug: str | None = None) -> Workspace:
    name = _clean_workspace_name(name)
    if slug and Workspace.objects.filter(slug=slug).exists():
        raise ApplicationError("slug_taken", f"The workspace slug {slug!r} is taken.", status=409)
    workspace = Workspace.objects.create(name=name, slug=slug or _unique_slug(name))
    Membership.objects.create(workspace=workspace, user=owner, role=Role.OWNER)
    return workspace


def workspace_rename(*, workspace: Workspace, name: str) -> Workspace:
    workspace.name = _clean_workspace_name(name)
    workspace.save(update_fields=["name"])
    return workspace


def workspace_set_time_zone(*, workspace: Workspace, time_zone: str) -> Workspace:
    """The IANA time zone whose midnights start the workspace's budget windows."""

    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ApplicationError(
            "validation_error",
            f"Unknown time zone {time_zone!r}: use an IANA name such as Europe/Berlin or UTC.",
            [{"field": "time_zone", "message": "Not an IANA time zone."}],
        ) from None
    workspace.time_zone = time_zone
    workspace.save(update_fields=["time_zone"])
    return workspace


@transaction.atomic
def workspace_delete(*, workspace: Workspace) -> None:
    """Deletes the workspace and, by cascade, everything it owns."""
    workspace.delete()


# --- Memberships -------------------------------------------------------------------------------


def membership_add(*, workspace: Workspace, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    return membership


def _is_last_owner(membership: Membership) -> bool:
    if membership.role != Role.OWNER:
        return False
    # Lock the owner rows so two concurrent demotions cannot both see "another owner remains".
    owners = Membership.objects.select_for_update().filter(workspace_id=membership.workspace_id, role=Role.OWNER)
    return len(list(owners.values_list("pk", flat=True))) <= 1


def _check_can_manage(*, by: Membership, target: Membership, new_role: str | None = None) -> None:
    """Admins manage viewers, editors and admins; only owners touch owners or grant the owner role."""
    if not role_at_least(by.role, Role.ADMIN):
        raise ApplicationError("permission_denied", "Only admins and owners can manage members.", status=403)
    touches_owner = target.role == Role.OWNER or new_role == Role.OWNER
    if touches_owner and by.role != Role.OWNER:
        raise ApplicationError("permission_denied", "Only an owner can change an owner or make one.", status=403)


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str, by: Membership) -> Membership:
    if role not in Role.values:
        raise ApplicationError(
            "validation_error", f"Unknown role {role!r}.", [{"field": "role", "message": f"one of {Role.values}"}]
        )
    _check_can_manage(by=by, target=membership, new_role=role)
    if role != Role.OWNER and _is_last_owner(membership):
        raise ApplicationError(
            "last_owner", "A workspace always keeps at least one owner: make someone else owner first.", status=409
        )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: Membership) -> None:
    """Removes a member (or, when `by` is the membership itself, leaves the workspace)."""
    if membership.pk != by.pk:
        _check_can_manage(by=by, target=membership)
    if _is_last_owner(membership):
        raise ApplicationError(
            "last_owner", "The last owner cannot leave or be removed: make someone else owner first.", status=409
        )
    # A departing member's tokens for this workspace stop working with the membership.
    ApiToken.objects.filter(workspace_id=membership.workspace_id, user_id=membership.user_id).update(
        revoked_at=timezone.now()
    )
    membership.delete()
    _sockets_recheck(membership.user_id)


# --- Invitations -------------------------------------------------------------------------------


def invitation_create(*, workspace: Workspace, email: str, role: str, by: Membership) -> tuple[Invitation, str]:
    """Returns the invitation and the raw token for its link; only the token's hash is stored."""
    email = (email or "").strip().lower()
    if not email or "@" not in email:
        raise ApplicationError("validation_error", "An email address is required.", [{"field": "email"}])
    if role not in Role.values:
        raise ApplicationError("validation_error", f"Unknown role {role!r}.", [{"field": "role"}])
    if not role_at_least(by.role, Role.ADMIN):
        raise ApplicationError("permission_denied", "Only admins and owners can invite.", status=403)
    if role == Role.OWNER and by.role != Role.OWNER:
        raise ApplicationError("permission_denied", "Only an owner can invite another owner.", status=403)
    if Membership.objects.filter(workspace=workspace, user__email=email).exists():
        raise ApplicationError("already_member", f"{email} is already a member of this workspace.", status=409)
    raw = new_token()
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email,
        role=role,
        token_hash=hash_token(raw),
        invited_by=by.user,
        expires_at=timezone.now() + timedelta(hours=settings.INVITATION_TTL_HOURS),
    )
    return invitation, raw


def invitation_link(raw_token: str) -> str:
    return f"{settings.PUBLIC_URL}/accounts/invite/{raw_token}/"


def invitation_for_token(raw_token: str) -> Invitation:
    """The usable invitation behind a link, or an ApplicationError saying why it is not usable."""
    invitation = Invitation.objects.select_related("workspace").filter(token_hash=hash_token(raw_token)).first()
    if invitation is None or invitation.revoked_at is not None:
        raise ApplicationError("invitation_invalid", "This invitation link is not valid.", status=404)
    if invitation.accepted_at is not None:
        raise ApplicationError("invitation_used", "This invitation has already been used.", status=410)
    if invitation.expires_at <= timezone.now():
        raise ApplicationError("invitation_expired", "This invitation has expired: ask for a new one.", status=410)
    return invitation


@transaction.atomic
def invitation_accept(*, raw_token: str, user: User) -> Membership:
    invitation = invitation_for_token(raw_token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise ApplicationError("invitation_used", "This invitation has already been used.", status=410)
    if invitation.email != user.email.lower():
        raise ApplicationError(
            "invitation_wrong_user",
            f"This invitation is for {invitation.email}; sign in with that address to accept it.",
            status=403,
        )
    existing = Membership.objects.filter(workspace_id=invitation.workspace_id, user=user).first()
    # Accepting never lowers a role the user already has.
    if existing is not None and role_at_least(existing.role, invitation.role):
        membership = existing
    else:
        membership = membership_add(workspace=invitation.workspace, user=user, role=invitation.role)
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    return membership


def invitation_revoke(*, invitation: Invitation) -> None:
    if invitation.accepted_at is not None:
        raise ApplicationError("invitation_used", "This invitation has already been accepted.", status=409)
    if invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


# --- API tokens --------------------------------------------------------------------------------


def api_token_create(*, workspace: Workspace, user: User, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the raw token, which is never retrievable again."""
    if not Membership.objects.filter(workspace=workspace, user=user).exists():
        raise ApplicationError("not_a_member", "Tokens can only be made for a workspace you belong to.", status=404)
    name = (name or "").strip() or "token"
    if len(name) > 100:
        raise ApplicationError("validation_error", "Token names are at most 100 characters.", [{"field": "name"}])
    raw = new_token()
    token = ApiToken.objects.create(
        workspace=workspace, user=user, name=name, prefix=raw[:10], token_hash=hash_token(raw)
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        _sockets_recheck(token.user_id)


def _sockets_recheck(user_id) -> None:
    """Open WebSockets of this user re-check their access once the change is committed."""

    transaction.on_commit(lambda: notify_access_changed(user_id=user_id))


# --- Secrets -----------------------------------------------------------------------------------


def _check_secret(name: str, value: str) -> None:
    if not SECRET_NAME_RE.match(name or ""):
        raise ApplicationError(
            "validation_error",
            "Secret names start with a letter or _ and use letters, digits, _ . : - (at most 100).",
            [{"field": "name"}],
        )
    if not isinstance(value, str) or value == "":
        raise ApplicationError("validation_error", "A secret needs a value.", [{"field": "value"}])
    if len(value.encode()) > SECRET_MAX_BYTES:
        raise ApplicationError("validation_error", "Secret values are at most 64 KiB.", [{"field": "value"}])


def secret_create(*, workspace: Workspace, name: str, value: str, by: User | None = None) -> Secret:
    _check_secret(name, value)
    if name.startswith(PROVIDER_SECRET_PREFIX):
        raise ApplicationError(
            "validation_error",
            f"Names starting with {PROVIDER_SECRET_PREFIX!r} are kept for model providers' keys.",
            [{"field": "name"}],
        )
    if Secret.objects.filter(workspace=workspace, name=name).exists():
        raise ApplicationError("secret_exists", f"A secret named {name!r} already exists.", status=409)
    return secret_set(workspace=workspace, name=name, value=value, by=by)


def secret_set(*, workspace: Workspace, name: str, value: str, by: User | None = None) -> Secret:
    secret, _ = Secret.objects.update_or_create(
        workspace=workspace, name=name, defaults={"ciphertext": crypto.encrypt(value), "created_by": by}
    )
    return secret


def secret_update(*, secret: Secret, value: str, by: User | None = None) -> Secret:
    _check_secret(secret.name, value)
    secret.ciphertext = crypto.encrypt(value)
    secret.created_by = by or secret.created_by
    secret.save(update_fields=["ciphertext", "created_by", "updated_at"])
    return secret


def secret_delete(*, secret: Secret) -> None:
    secret.delete()


def secret_value(*, workspace_id, name: str) -> str:
    """Decrypted value for executors' credential fields. Raises ApplicationError if missing."""
    secret = Secret.objects.filter(workspace_id=workspace_id, name=name).first()
    if secret is None:
        raise ApplicationError("secret_not_found", f"No secret named {name!r} in this workspace.", status=404)
    return crypto.decrypt(secret.ciphertext)


# --- Callback signing secret -------------------------------------------------------------------


def _new_signing_secret() -> str:
    return signing.new_secret()  # one definition of the Standard Webhooks format


def callback_secret_ensure(*, workspace_id) -> CallbackSigningSecret:
    """The workspace's callback signing secret, made on first need (a callback to send before any admin
    created one). Nobody has seen a secret made here: an admin rotates to get one to share."""
    found = CallbackSigningSecret.objects.filter(workspace_id=workspace_id).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return CallbackSigningSecret.objects.create(
                workspace_id=workspace_id, secret_ciphertext=crypto.encrypt(_new_signing_secret())
            )
    except IntegrityError:  # made concurrently by another callback or a rotation: use that one
        return CallbackSigningSecret.objects.get(workspace_id=workspace_id)


@transaction.atomic
def callback_secret_rotate(
    *, workspace: Workspace, by: User | None = None, grace_s: int | None = None
) -> tuple[CallbackSigningSecret, str]:
    """A new `whsec_` secret, returned only here. The previous one keeps signing callbacks alongside the
    new one for `grace_s` (TRELLIS_WEBHOOK_SECRET_GRACE_S), so receivers can switch over."""
    grace_s = settings.WEBHOOK_SECRET_GRACE_S if grace_s is None else grace_s
    raw = _new_signing_secret()
    now = timezone.now()
    row = CallbackSigningSecret.objects.select_for_update().filter(workspace=workspace).first()
    if row is None:
        try:
            with transaction.atomic():
                row = CallbackSigningSecret.objects.create(
                    workspace=workspace, secret_ciphertext=crypto.encrypt(raw), rotated_at=now, rotated_by=by
                )
            return row, raw
        except IntegrityError:  # made meanwhile (a callback's first need, or a concurrent rotation)
            row = CallbackSigningSecret.objects.select_for_update().get(workspace=workspace)
    row.previous_secret_ciphertext = row.secret_ciphertext
    row.previous_secret_expires_at = now + timedelta(seconds=grace_s)
    row.secret_ciphertext = crypto.encrypt(raw)
    row.rotated_at, row.rotated_by = now, by
    row.save()
    return row, raw


def callback_signing_secrets(*, workspace_id, now: datetime | None = None) -> list[str]:
    """The secrets that sign a callback now: the current one (made if missing), then the previous one
    during its grace period."""
    row = callback_secret_ensure(workspace_id=workspace_id)
    now = now or timezone.now()
    found = [crypto.decrypt(row.secret_ciphertext)]
    if row.previous_secret_ciphertext and row.previous_secret_expires_at and row.previous_secret_expires_at > now:
        found.append(crypto.decrypt(row.previous_secret_ciphertext))
    return found
