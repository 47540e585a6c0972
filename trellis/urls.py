"""URL map. Each app owns its own urls.py; this file only mounts them."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from trellis import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("accounts.urls")),
    path("api/v1/", include("builder.urls")),
    path("api/v1/", include("runs.urls")),
    path("api/v1/", include("runs.usage_urls")),
    path("api/v1/", include("builder.audit_urls")),
    path("api/v1/", include("budgets.urls")),
    path("api/v1/", include("evals.urls")),
    path("api/v1/", include("knowledge.urls")),
    path("accounts/", include("accounts.page_urls")),
    path("", include("runs.hook_urls")),
    path("", include("chat.urls")),
    # Unknown API paths answer with the JSON error shape, never the SPA.
    re_path(r"^(api|hooks|v1)/", views.api_not_found),
    # Everything else is the single-page app (which routes on the client).
    re_path(r"^(?!static/).*$", views.spa, name="spa"),
]

handler400 = "trellis.errors.handler400"
handler403 = "trellis.errors.handler403"
handler404 = "trellis.errors.handler404"
handler500 = "trellis.errors.handler500"
