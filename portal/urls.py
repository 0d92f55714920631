from django.contrib import admin
from django.urls import include, path

from api import views as api_views
from api.routing import api_urlpatterns
from approvals.api.urls import router as approvals_router
from core.accounts import ResetAndSignInView
from incidents.api.urls import extra_urlpatterns as incident_events
from incidents.api.urls import router as incidents_router
from insights import executive_views, oncall_views, views
from insights.profile import profile
from insights.scorecards import team_scorecard
from insights.timeline_views import ServiceTimelineView
from releases.api.urls import router as releases_router
from releases.urls import urlpatterns as release_patterns
from reviews.api.urls import router as reviews_router
from search.api import search_api
from sla_registry.api.urls import extra_urlpatterns as registry_files
from sla_registry.api.urls import router as registry_router

api_patterns = api_urlpatterns(
    (registry_router, approvals_router, reviews_router, releases_router, incidents_router),
    extra_v1_patterns=(registry_files, incident_events, [path("search/", search_api, name="search")]),
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page says: send them to the icon the pages name.
    path("favicon.ico", views.favicon, name="favicon"),
    # Before Django's own: the reset link signs its owner in and lifts a login lock (core.accounts).
    path("accounts/reset/<uidb64>/<token>/", ResetAndSignInView.as_view(), name="password_reset_confirm"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include((api_patterns, "api"))),
    path("profile/", profile, name="profile"),
    path("profile/tokens/<str:token_key>/revoke/", api_views.revoke_token, name="revoke_token"),
    path("", include("notifications.urls")),
    path("", include("search.urls")),
    path("", include("audit.urls")),
    path("", include("approvals.urls")),
    path("", include("reviews.urls")),
    path("", include("incidents.urls")),
    # The service timeline reads releases and reviews together (insights) but keeps its name in releases.
    path(
        "",
        include(
            (
                [
                    *release_patterns,
                    path("services/<slug:slug>/timeline/", ServiceTimelineView.as_view(), name="service_timeline"),
                ],
                "releases",
            )
        ),
    ),
    path("executive/", executive_views.executive_summary_page, name="executive_summary"),
    path("executive/export/<slug:table>.csv", executive_views.executive_export, name="executive_export"),
    path("services/<slug:slug>/oncall/", oncall_views.oncall_card, name="oncall_card"),
    path("teams/<slug:slug>/scorecard/", team_scorecard, name="team_scorecard"),
    path("", include("sla_registry.urls")),
]
