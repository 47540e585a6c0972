"""`Authorization: Bearer trl_…` for the REST API. `request.auth` is the ApiToken, which pins the workspace."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiToken, Membership
from accounts.tokens import TOKEN_PREFIX, hash_token


def token_lookup(raw: str, *, with_role: bool = False) -> ApiToken | None:
    """The live token for `raw`, with its user and workspace. `with_role` (the OpenAI-compatible API's hot path):
    also `.role`, its user's role in the token's workspace now (None once no longer a member; see
    permissions.require_token_role), and without the workspace row, which that path does not read. Two plain
    queries: a join or subquery for the role costs more to build in the ORM than a second query does."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    related = ("user",) if with_role else ("user", "workspace")
    tokens = ApiToken.objects.select_related(*related).filter(
        token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True
    )
    token = next(iter(tokens[:1]), None)  # token_hash is unique: no ORDER BY needed
    if token is None:
        return None
    if with_role:
        roles = Membership.objects.filter(workspace_id=token.workspace_id, user_id=token.user_id)
        token.role = next(iter(roles.values_list("role", flat=True)[:1]), None)
    now = timezone.now()
    # Coarse last-used updates keep a busy token from writing on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


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
