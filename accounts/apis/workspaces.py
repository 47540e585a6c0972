"""REST API: the current user, workspaces, members and invitations."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.apis.common import WORKSPACE_PARAM, refuse_tokens
from accounts.apis.serializers import InvitationOut, MemberOut, MeOut, WorkspaceOut, workspace_out
from accounts.models import Invitation, Membership, Role
from accounts.permissions import current_workspace, get_in_workspace, require_role, visible_workspaces
from trellis.bodies import validated
from trellis.fields import StrictCharField


class MeApi(APIView):
    @extend_schema(responses=MeOut, summary="The signed-in user and the workspaces they can act in")
    def get(self, request):
        memberships = selectors.user_memberships(
            user=request.user, workspace_ids=visible_workspaces(request).values("pk")
        )
        return Response(
            {
                "id": request.user.pk,
                "email": request.user.email,
                "name": request.user.name,
                "workspaces": [
                    {"id": m.workspace.pk, "slug": m.workspace.slug, "name": m.workspace.name, "role": m.role}
                    for m in memberships
                ],
            }
        )


# --- Workspaces -------------------------------------------------------------------------------


class WorkspaceIn(serializers.Serializer):
    name = StrictCharField(max_length=100)
    slug = serializers.SlugField(max_length=60, required=False)


class WorkspaceListApi(APIView):
    @extend_schema(responses=WorkspaceOut(many=True), summary="Workspaces you belong to")
    def get(self, request):
        memberships = selectors.user_memberships(
            user=request.user, workspace_ids=visible_workspaces(request).values("pk")
        )
        return Response(WorkspaceOut([workspace_out(m) for m in memberships], many=True).data)

    @extend_schema(request=WorkspaceIn, responses={201: WorkspaceOut}, summary="Create a workspace (you own it)")
    def post(self, request):
        refuse_tokens(request, "create workspaces")
        data = validated(WorkspaceIn, request)
        workspace = services.workspace_create(name=data["name"], slug=data.get("slug"), owner=request.user)
        membership = workspace.memberships.get(user=request.user)
        return Response(WorkspaceOut(workspace_out(membership)).data, status=status.HTTP_201_CREATED)


class WorkspaceRenameIn(serializers.Serializer):
    name = StrictCharField(max_length=100, required=False)
    time_zone = StrictCharField(max_length=64, required=False, help_text="IANA name, e.g. Europe/Berlin")


class WorkspaceDetailApi(APIView):
    @extend_schema(responses=WorkspaceOut)
    def get(self, request, workspace_id):
        membership = require_role(request, workspace_id, Role.VIEWER)
        return Response(WorkspaceOut(workspace_out(membership)).data)

    @extend_schema(request=WorkspaceRenameIn, responses=WorkspaceOut, summary="Rename or set the time zone (admin)")
    def patch(self, request, workspace_id):
        membership = require_role(request, workspace_id, Role.ADMIN)
        data = validated(WorkspaceRenameIn, request)
        if "time_zone" in data:
            services.workspace_set_time_zone(workspace=membership.workspace, time_zone=data["time_zone"])
        if "name" in data:
            services.workspace_rename(workspace=membership.workspace, name=data["name"])
        return Response(WorkspaceOut(workspace_out(membership)).data)

    @extend_schema(responses={204: None}, summary="Delete the workspace and everything in it (owner)")
    def delete(self, request, workspace_id):
        membership = require_role(request, workspace_id, Role.OWNER)
        services.workspace_delete(workspace=membership.workspace)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WorkspaceLeaveApi(APIView):
    @extend_schema(request=None, responses={204: None}, summary="Leave the workspace")
    def post(self, request, workspace_id):
        membership = require_role(request, workspace_id, Role.VIEWER)
        services.membership_remove(membership=membership, by=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Members ----------------------------------------------------------------------------------


class MemberRoleIn(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


@extend_schema(parameters=[WORKSPACE_PARAM])
class MemberListApi(APIView):
    @extend_schema(responses=MemberOut(many=True), summary="Members of the current workspace")
    def get(self, request):
        membership = current_workspace(request, Role.VIEWER)
        return Response(MemberOut(selectors.member_list(workspace=membership.workspace), many=True).data)


class MemberDetailApi(APIView):
    def _target_and_caller(self, request, member_id) -> tuple[Membership, Membership]:
        target = get_in_workspace(request, Membership.objects.select_related("user"), Role.VIEWER, pk=member_id)
        return target, require_role(request, target.workspace_id, Role.VIEWER)

    @extend_schema(responses=MemberOut)
    def get(self, request, member_id):
        target, _ = self._target_and_caller(request, member_id)
        return Response(MemberOut(target).data)

    @extend_schema(request=MemberRoleIn, responses=MemberOut, summary="Change a member's role (admin; owners: owner)")
    def patch(self, request, member_id):
        target, caller = self._target_and_caller(request, member_id)
        data = validated(MemberRoleIn, request)
        services.membership_role_change(membership=target, role=data["role"], by=caller)
        return Response(MemberOut(target).data)

    @extend_schema(responses={204: None}, summary="Remove a member (admin), or yourself (leave)")
    def delete(self, request, member_id):
        target, caller = self._target_and_caller(request, member_id)
        services.membership_remove(membership=target, by=caller)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Invitations ------------------------------------------------------------------------------


class InvitationIn(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices, default=Role.VIEWER)


class InvitationCreatedOut(InvitationOut):
    link = serializers.CharField()

    class Meta(InvitationOut.Meta):
        fields = [*InvitationOut.Meta.fields, "link"]


@extend_schema(parameters=[WORKSPACE_PARAM])
class InvitationListApi(APIView):
    @extend_schema(responses=InvitationOut(many=True), summary="Pending invitations (admin)")
    def get(self, request):
        membership = current_workspace(request, Role.ADMIN)
        return Response(InvitationOut(selectors.invitation_list(workspace=membership.workspace), many=True).data)

    @extend_schema(
        request=InvitationIn,
        responses={201: InvitationCreatedOut},
        summary="Invite someone by link (admin); the link is returned only here",
    )
    def post(self, request):
        membership = current_workspace(request, Role.ADMIN)
        data = validated(InvitationIn, request)
        invitation, raw = services.invitation_create(
            workspace=membership.workspace, email=data["email"], role=data["role"], by=membership
        )
        body = InvitationOut(invitation).data
        body["link"] = services.invitation_link(raw)
        return Response(body, status=status.HTTP_201_CREATED)


class InvitationDetailApi(APIView):
    @extend_schema(responses={204: None}, summary="Revoke an invitation (admin)")
    def delete(self, request, invitation_id):
        invitation = get_in_workspace(request, Invitation.objects.all(), Role.ADMIN, pk=invitation_id)
        services.invitation_revoke(invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)
