"""The one permission helper every API uses.

Rules: a caller sees a workspace only through a membership (and an API token only sees its own
workspace); an object in a workspace the caller cannot see answers 404, not 403; a member below the
required role gets 403.
"""

import uuid

from django.db.models import Model, QuerySet
from django.http import Http404

from accounts.models import ApiToken, Membership, Role, Workspace, role_at_least
from trellis.errors import ApplicationError

WORKSPACE_HEADER = "HTTP_X_TRELLIS_WORKSPACE"


def _token(request) -> ApiToken | None:
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None


def visible_workspaces(request) -> QuerySet[Workspace]:
    token = _token(request)
    qs = Workspace.objects.filter(memberships__user=request.user)
    if token is not None:
        qs = qs.filter(pk=token.workspace_id)
    return qs


def membership_for(request, workspace: Workspace | str) -> Membership:
    """The caller's membership in `workspace` (object or id), or 404."""
    workspace_id = workspace.pk if isinstance(workspace, Workspace) else workspace
    token = _token(request)
    if token is not None and str(token.workspace_id) != str(workspace_id):
        raise Http404
    if not getattr(request.user, "is_authenticated", False):
        raise Http404
    membership = (
        Membership.objects.select_related("workspace").filter(workspace_id=workspace_id, user=request.user).first()
    )
    if membership is None:
        raise Http404
    return membership


def require_role(request, workspace: Workspace | str, role: str = Role.VIEWER) -> Membership:
    """Membership with at least `role` in the workspace; 404 for non-members, 403 below the role."""
    membership = membership_for(request, workspace)
    _check_role(membership.role, role)
    return membership


def require_token_role(token: ApiToken, role: str = Role.VIEWER) -> None:
    """`require_role` in the token's own workspace, from the `.role` that `token_lookup(raw, with_role=True)`
    read with the token (no query): 404 when its user is no longer a member, 403 below the role."""
    if token.role is None:
        raise Http404
    _check_role(token.role, role)


def _check_role(held: str, role: str) -> None:
    if not role_at_least(held, role):
        raise ApplicationError(
            "permission_denied",
            f"This needs the {Role(role).label.lower()} role or higher in this workspace.",
            status=403,
        )


def current_workspace(request, role: str = Role.VIEWER) -> Membership:
    """The workspace a request acts in: the token's, else the X-Trellis-Workspace header or
    ?workspace= (slug or id), else the caller's oldest membership."""
    token = _token(request)
    wanted = request.META.get(WORKSPACE_HEADER) or request.GET.get("workspace")
    if token is not None:
        # Naming another workspace than the token's is an error, not something to silently ignore.
        if wanted and wanted not in (token.workspace.slug, str(token.workspace_id)):
            raise Http404
        return require_role(request, token.workspace_id, role)
    memberships = Membership.objects.select_related("workspace").filter(user=request.user)
    if wanted:
        field = "workspace__slug" if not _looks_like_uuid(wanted) else "workspace_id"
        membership = memberships.filter(**{field: wanted}).first()
    else:
        membership = memberships.order_by("created_at").first()
    if membership is None:
        raise Http404
    return require_role(request, membership.workspace_id, role)


def get_in_workspace(request, queryset: QuerySet, role: str = Role.VIEWER, **lookup) -> Model:
    """Fetch one object that has a `workspace` FK and check the caller's role there (404/403)."""
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise Http404
    require_role(request, obj.workspace_id, role)
    return obj


def _looks_like_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
