from django.contrib import admin
from django.urls import include, path

from portal import oncall_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("portal.search.urls")),
    path("", include("approvals.urls")),
    path("", include("reviews.urls")),
    path("", include("releases.urls")),
    path("services/<slug:slug>/oncall/", oncall_views.oncall_card, name="oncall_card"),
    path("", include("sla_registry.urls")),
]
