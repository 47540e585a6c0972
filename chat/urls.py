"""Routes: the editors' API under /api/v1/ and the public chat under /chat/ (page, embed script, visitor API)."""

from django.urls import path

from chat import apis, views

_base = "api/v1/workflows/<uuid:workflow_id>/deployments"
_page = "chat/<str:public_id>"

urlpatterns = [
    path(_base, apis.DeploymentListApi.as_view(), name="deployment-list"),
    path(f"{_base}/<uuid:deployment_id>", apis.DeploymentDetailApi.as_view(), name="deployment-detail"),
    path(f"{_base}/<uuid:deployment_id>/threads", apis.ConversationListApi.as_view(), name="deployment-threads"),
    path(
        f"{_base}/<uuid:deployment_id>/threads/<uuid:thread_id>",
        apis.ConversationDetailApi.as_view(),
        name="deployment-thread",
    ),
    path("chat/embed.js", views.embed_script, name="chat-embed"),
    path(_page, views.chat_page, name="chat-page"),
    path(f"{_page}/api/config", views.config, name="chat-config"),
    path(f"{_page}/api/threads", views.threads, name="chat-threads"),
    path(f"{_page}/api/threads/<str:thread_id>", views.thread, name="chat-thread"),
    path(f"{_page}/api/threads/<str:thread_id>/messages", views.messages, name="chat-messages"),
    path(
        f"{_page}/api/threads/<str:thread_id>/messages/<str:message_id>/stream",
        views.stream_view,
        name="chat-stream",
    ),
    path(
        f"{_page}/api/threads/<str:thread_id>/messages/<str:message_id>/approval",
        views.approval,
        name="chat-approval",
    ),
]
