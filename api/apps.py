"""The REST API's shared ground: personal tokens, their authentication, Idempotency-Key, the error shape, bounded JSON and the router helpers."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    label = "api"
    verbose_name = "REST API"
