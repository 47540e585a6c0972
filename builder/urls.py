"""REST routes for the builder, mounted under /api/v1/."""

from django.urls import path

from builder import apis

urlpatterns = [
    path("node-types", apis.NodeTypeListApi.as_view(), name="node-type-list"),
]
