"""Read-only routes for the usage screen and the run graph. To be mounted under /api/v1/ in trellis/urls.py:
`path("api/v1/", include("runs.usage_urls"))`."""

from django.urls import path

from runs import usage_apis

urlpatterns = [
    path("usage", usage_apis.UsageApi.as_view(), name="usage"),
    path("runs/<uuid:run_id>/graph", usage_apis.RunGraphApi.as_view(), name="run-graph"),
]
