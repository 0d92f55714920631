from django.urls import path

from sla_registry import views

app_name = "sla_registry"
urlpatterns = [
    path("teams/", views.TeamListView.as_view(), name="team_list"),
    path("teams/new/", views.TeamCreateView.as_view(), name="team_create"),
    path("teams/<slug:slug>/", views.TeamDetailView.as_view(), name="team_detail"),
    path("teams/<slug:slug>/edit/", views.TeamUpdateView.as_view(), name="team_update"),
    path("teams/<slug:slug>/history/", views.TeamHistoryView.as_view(), name="team_history"),
    path("services/", views.ServiceListView.as_view(), name="service_list"),
    path("services/new/", views.ServiceCreateView.as_view(), name="service_create"),
    path("services/<slug:slug>/", views.ServiceDetailView.as_view(), name="service_detail"),
    path("services/<slug:slug>/edit/", views.ServiceUpdateView.as_view(), name="service_update"),
    path("services/<slug:slug>/history/", views.ServiceHistoryView.as_view(), name="service_history"),
    path("journeys/", views.JourneyListView.as_view(), name="journey_list"),
    path("journeys/new/", views.JourneyCreateView.as_view(), name="journey_create"),
    path("journeys/<slug:slug>/", views.JourneyDetailView.as_view(), name="journey_detail"),
    path("journeys/<slug:slug>/edit/", views.JourneyUpdateView.as_view(), name="journey_update"),
    path("journeys/<slug:slug>/history/", views.JourneyHistoryView.as_view(), name="journey_history"),
    path("taxonomy/", views.TaxonomyView.as_view(), name="taxonomy"),
    path("taxonomy/severities/new/", views.SeverityCreateView.as_view(), name="severity_create"),
    path("taxonomy/severities/<path:key>/edit/", views.SeverityUpdateView.as_view(), name="severity_update"),
    path("taxonomy/categories/new/", views.CategoryCreateView.as_view(), name="category_create"),
    path("taxonomy/categories/<slug:slug>/edit/", views.CategoryUpdateView.as_view(), name="category_update"),
    path("slas/", views.AgreementListView.as_view(), name="sla_list"),
    path("slas/<str:reference>/", views.AgreementDetailView.as_view(), name="sla_detail"),
    path("slas/<str:reference>/history/", views.AgreementHistoryView.as_view(), name="sla_history"),
    path("escalation/", views.MatrixListView.as_view(), name="matrix_list"),
    path("escalation/<str:reference>/", views.MatrixDetailView.as_view(), name="matrix_detail"),
    path("escalation/<str:reference>/history/", views.MatrixHistoryView.as_view(), name="matrix_history"),
]
