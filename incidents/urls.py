from django.urls import path

from incidents import views

app_name = "incidents"
urlpatterns = [
    path("incidents/", views.incident_list, name="incident_list"),
    path("incidents/new/", views.incident_declare, name="incident_declare"),
    path("incidents/unrouted/", views.unrouted_list, name="unrouted_list"),
    path("incidents/unrouted/<int:pk>/route/", views.unrouted_route, name="unrouted_route"),
    path("incidents/<str:reference>/", views.incident_detail, name="incident_detail"),
    path("incidents/<str:reference>/<slug:action>/", views.incident_act, name="incident_act"),
]
