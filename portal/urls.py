from django.contrib import admin
from django.urls import include, path

from portal import executive_views, oncall_views, views
from portal.api import views as api_views
from portal.scorecards import team_scorecard

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("api/", include("portal.api.urls")),
    path("profile/", api_views.profile, name="profile"),
    path("profile/tokens/<str:token_key>/revoke/", api_views.revoke_token, name="revoke_token"),
    path("", include("portal.notifications.urls")),
    path("", include("portal.search.urls")),
    path("", include("portal.audit.urls")),
    path("", include("approvals.urls")),
    path("", include("reviews.urls")),
    path("", include("releases.urls")),
    path("executive/", executive_views.executive_summary_page, name="executive_summary"),
    path("executive/export/<slug:table>.csv", executive_views.executive_export, name="executive_export"),
    path("services/<slug:slug>/oncall/", oncall_views.oncall_card, name="oncall_card"),
    path("teams/<slug:slug>/scorecard/", team_scorecard, name="team_scorecard"),
    path("", include("sla_registry.urls")),
]
