from django.urls import path

from sla_registry.views import documents, registry

app_name = "sla_registry"
urlpatterns = [
    path("teams/", registry.TeamListView.as_view(), name="team_list"),
    path("teams/new/", registry.TeamCreateView.as_view(), name="team_create"),
    path("teams/<slug:slug>/", registry.TeamDetailView.as_view(), name="team_detail"),
    path("teams/<slug:slug>/edit/", registry.TeamUpdateView.as_view(), name="team_update"),
    path("teams/<slug:slug>/history/", registry.TeamHistoryView.as_view(), name="team_history"),
    path("services/", registry.ServiceListView.as_view(), name="service_list"),
    path("services/new/", registry.ServiceCreateView.as_view(), name="service_create"),
    path("services/<slug:slug>/", registry.ServiceDetailView.as_view(), name="service_detail"),
    path("services/<slug:slug>/edit/", registry.ServiceUpdateView.as_view(), name="service_update"),
    path("services/<slug:slug>/history/", registry.ServiceHistoryView.as_view(), name="service_history"),
    path("journeys/", registry.JourneyListView.as_view(), name="journey_list"),
    path("journeys/new/", registry.JourneyCreateView.as_view(), name="journey_create"),
    path("journeys/<slug:slug>/", registry.JourneyDetailView.as_view(), name="journey_detail"),
    path("journeys/<slug:slug>/edit/", registry.JourneyUpdateView.as_view(), name="journey_update"),
    path("journeys/<slug:slug>/history/", registry.JourneyHistoryView.as_view(), name="journey_history"),
    path("taxonomy/", registry.TaxonomyView.as_view(), name="taxonomy"),
    path("taxonomy/severities/new/", registry.SeverityCreateView.as_view(), name="severity_create"),
    path("taxonomy/severities/<path:key>/edit/", registry.SeverityUpdateView.as_view(), name="severity_update"),
    path("taxonomy/categories/new/", registry.CategoryCreateView.as_view(), name="category_create"),
    path("taxonomy/categories/<slug:slug>/edit/", registry.CategoryUpdateView.as_view(), name="category_update"),
    path("slas/", documents.AgreementListView.as_view(), name="sla_list"),
    path("slas/<str:reference>/", documents.AgreementDetailView.as_view(), name="sla_detail"),
    path("slas/<str:reference>/history/", documents.AgreementHistoryView.as_view(), name="sla_history"),
    path("escalation/", documents.MatrixListView.as_view(), name="matrix_list"),
    path("escalation/<str:reference>/", documents.MatrixDetailView.as_view(), name="matrix_detail"),
    path("escalation/<str:reference>/history/", documents.MatrixHistoryView.as_view(), name="matrix_history"),
]
