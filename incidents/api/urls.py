from django.urls import path
from rest_framework.routers import SimpleRouter

from incidents.api.views import IncidentViewSet, IntegrationEventsView

router = SimpleRouter()
router.register("incidents", IncidentViewSet, basename="incident")

extra_urlpatterns = [
    path("integrations/<str:key>/events/", IntegrationEventsView.as_view(), name="integration-events"),
]
