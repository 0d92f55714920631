"""/api/v1/: every app's resources on one router, the OpenAPI schema and its docs.

Django's LoginRequiredMiddleware would send an API client to the login page;
API views are exempt from it and DRF answers for itself instead (401 without
credentials, 403 without permission), so automation sees JSON, never a redirect.
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter

from approvals.api.urls import router as approvals_router
from portal.api.views import search_api
from releases.api.urls import router as releases_router
from reviews.api.urls import router as reviews_router
from sla_registry.api.urls import extra_urlpatterns as registry_files
from sla_registry.api.urls import router as registry_router


class PortalRouter(DefaultRouter):
    include_format_suffixes = False  # JSON only: no .json twins of every route


router = PortalRouter()
for app_router in (registry_router, approvals_router, reviews_router, releases_router):
    router.registry.extend(app_router.registry)


def _open_to_api_authentication(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            _open_to_api_authentication(pattern.url_patterns)
        else:
            pattern.callback = login_not_required(pattern.callback)
    return patterns


app_name = "api"
urlpatterns = _open_to_api_authentication(
    [
        path("v1/", include(router.urls)),
        path("v1/", include(registry_files)),
        path("v1/search/", search_api, name="search"),
        path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
        path(
            "docs/",
            SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny]),
            name="docs",
        ),
    ]
)
