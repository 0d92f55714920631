from django.contrib import admin
from django.urls import include, path

from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("", include("approvals.urls")),
    path("", include("reviews.urls")),
    path("", include("releases.urls")),
    path("", include("sla_registry.urls")),
]
