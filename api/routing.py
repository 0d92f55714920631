"""What every app's REST resources share under /api/: one router, JSON only, open to API authentication.

Django's LoginRequiredMiddleware would send an API client to the login page;
API views are exempt from it and DRF answers for itself instead (401 without
credentials, 403 without permission), so automation sees JSON, never a redirect.
The project's urls.py joins the apps' routers with `api_urlpatterns`.
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import DefaultRouter


class PortalRouter(DefaultRouter):
    include_format_suffixes = False  # JSON only: no .json twins of every route


def _open_to_api_authentication(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            _open_to_api_authentication(pattern.url_patterns)
        else:
            pattern.callback = login_not_required(pattern.callback)
    return patterns


def api_urlpatterns(routers, extra_v1_patterns=()):
    """/api/v1/ (the routers' resources joined on one router, then `extra_v1_patterns`), the schema and its docs."""
    router = PortalRouter()
    for app_router in routers:
        router.registry.extend(app_router.registry)
    return _open_to_api_authentication(
        [
            path("v1/", include(router.urls)),
            *(path("v1/", include(patterns)) for patterns in extra_v1_patterns),
            path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
            path(
                "docs/",
                SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny]),
                name="docs",
            ),
        ]
    )
