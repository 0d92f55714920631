from django.urls import re_path
from rest_framework.routers import SimpleRouter

from sla_registry.api import views

router = SimpleRouter()
router.register("teams", views.TeamViewSet, basename="team")
router.register("services", views.ServiceViewSet, basename="service")
router.register("journeys", views.CustomerJourneyViewSet, basename="journey")
router.register("severities", views.SeverityViewSet, basename="severity")
router.register("categories", views.IncidentCategoryViewSet, basename="category")
router.register("slas", views.AgreementViewSet, basename="sla")
router.register("escalation-matrices", views.EscalationMatrixViewSet, basename="escalation-matrix")

# A file name, not a collection: no trailing slash, as the OpenSLO tools fetch it.
extra_urlpatterns = [
    re_path(
        r"^slas/(?P<reference>[A-Za-z]+-\d{1,10})/openslo\.yaml$",
        views.AgreementViewSet.as_view({"get": "openslo"}),
        name="sla-openslo",
    ),
]
