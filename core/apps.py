"""Small shared mechanisms every app stands on.

History helpers, task scheduling, markdown, moments and quarters, safe outbound HTTP,
references, per-user compiled SQL, formatting.
"""

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"
