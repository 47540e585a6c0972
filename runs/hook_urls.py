"""Routes mounted at the site root: webhooks, the OpenAI-compatible endpoint and the triggers API."""

from django.urls import include, path

from runs.triggers import hooks, openai_compat

urlpatterns = [
    path("hooks/test/<str:key>", hooks.hook_test, name="hook-test"),
    path("hooks/<str:key>", hooks.hook, name="hook"),
    path("v1/chat/completions", openai_compat.chat_completions, name="openai-chat-completions"),
    path("v1/responses", openai_compat.responses, name="openai-responses"),
    path("v1/models", openai_compat.models, name="openai-models"),
    path("", include("runs.triggers.urls")),
]
