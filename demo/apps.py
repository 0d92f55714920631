"""Demo data and benchmark corpora: seed_demo, bench_search, benchmark_pages.

Imports anything; nothing but the tests imports it.
"""

from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "demo"
    verbose_name = "Demo"
