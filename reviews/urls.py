from django.urls import path  # noqa: F401 - routes are being added

app_name = "reviews"
urlpatterns = []
