"""The REST API's shared ground: tokens and their authentication, Idempotency-Key, errors, routers."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    label = "api"
    verbose_name = "REST API"
