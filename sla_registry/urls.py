from django.urls import path

app_name = "sla_registry"
urlpatterns = []
