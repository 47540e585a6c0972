"""`Authorization: Bearer trl_…` for the REST API. `request.auth` is the ApiToken, which pins the workspace."""

from functools import lru_cache

from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiToken, Membership, User
from accounts.tokens import TOKEN_PREFIX, hash_token
from runs.persistence import sql


def token_lookup(raw: str, *, with_role: bool = False) -> ApiToken | None:
    """The live token for `raw`, with its user and workspace. `with_role` (the OpenAI-compatible API's hot path,
    read before a streamed answer's first token): also `.role`, its user's role in the token's workspace now (None
    once no longer a member; see permissions.require_token_role), and without the workspace row, which that path
    does not read: one hand-written statement, since building the ORM's queries cost more than running them."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    if with_role:
        token = _token_with_role(hash_token(raw))
    else:
        tokens = ApiToken.objects.select_related("user", "workspace").filter(
            token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True
        )
        token = next(iter(tokens[:1]), None)  # token_hash is unique: no ORDER BY needed
    if token is None:
        return None
    now = timezone.now()
    # Coarse last-used updates keep a busy token from writing on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def _token_with_role(token_hash: str) -> ApiToken | None:
    row = sql.fetch_one(_token_statement(connection.vendor), [token_hash, True])
    if row is None:
        return None
    n_token = len(ApiToken._meta.concrete_fields)
    token = sql.from_row(ApiToken, row[:n_token])
    token.user = sql.from_row(User, row[n_token:-1])
    token.role = row[-1]
    return token


@lru_cache(maxsize=2)
def _token_statement(vendor: str) -> str:
    quote = connection.ops.quote_name
    token, user, member = ApiToken._meta, User._meta, Membership._meta

    def columns(alias: str, meta) -> str:
        return ", ".join(f"{alias}.{quote(f.column)}" for f in meta.concrete_fields)

    def col(meta, name: str) -> str:
        return quote(meta.get_field(name).column)

    return (
        f"SELECT {columns('t', token)}, {columns('u', user)}, (SELECT m.{col(member, 'role')} "
        f"FROM {sql.table(Membership)} m WHERE m.{col(member, 'workspace')} = t.{col(token, 'workspace')} "
        f"AND m.{col(member, 'user')} = t.{col(token, 'user')}) "
        f"FROM {sql.table(ApiToken)} t JOIN {sql.table(User)} u ON u.{quote(user.pk.column)} = t.{col(token, 'user')} "
        f"WHERE t.{col(token, 'token_hash')} = %s AND t.{col(token, 'revoked_at')} IS NULL "
        f"AND u.{col(user, 'is_active')} = %s"
    )


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode(errors="replace")
        if not header:
            return None
        parts = header.split()
        if parts[0] != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header: use 'Bearer <token>'.")
        token = token_lookup(parts[1])
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token.")
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
