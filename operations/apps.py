"""Running the portal: backups, restore, and the registry's export and import."""

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "operations"
    verbose_name = "Operations"
