"""`manage.py benchmark_pages`: latency percentiles and queries per page, against this database.

Requests go through Django's full stack in-process (middleware, views, templates,
database), signed in as a demo user. Figures are printed, not asserted: compare
runs on the same machine, and read the ratio to /healthz/ (the cheapest page,
measured in the same run) rather than absolute milliseconds.
"""

import statistics
import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from tqdm import tqdm

from approvals.models import ChangeRequest
from reviews.models import PostIncidentReview
from sla_registry.models import EscalationMatrix, Service, ServiceLevelAgreement, Team


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Measure p50/p95/max latency and the query count of the main pages (seed the database first)."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=30, help="Requests per page (default 30).")
        parser.add_argument("--user", default="committee.chair", help="Sign in as this user (default committee.chair).")

    def pages(self):
        sla = ServiceLevelAgreement.objects.order_by("pk").first()
        matrix = EscalationMatrix.objects.order_by("pk").first()
        service = Service.objects.order_by("pk").first()
        team = Team.objects.order_by("pk").first()
        change_request = ChangeRequest.objects.order_by("pk").first()
        if not (sla and matrix and service and team):
            raise CommandError("The registry is empty: run `manage.py seed_demo` (with --size N to scale) first.")
        pages = [
            ("health check (baseline)", "/healthz/"),
            ("home", "/"),
            ("SLA list", "/slas/"),
            ("SLA list, overdue filter", "/slas/?review=overdue"),
            ("SLA detail", sla.get_absolute_url()),
            ("SLA history", f"{sla.get_absolute_url()}history/"),
            ("escalation matrix", matrix.get_absolute_url()),
            ("service list", "/services/"),
            ("service detail", service.get_absolute_url()),
            ("team detail", team.get_absolute_url()),
            ("change requests", "/changes/"),
            ("my approvals", "/changes/approvals/"),
        ]
        if change_request:
            pages.append(("change request", change_request.get_absolute_url()))
        review = PostIncidentReview.objects.filter(is_restricted=False).order_by("pk").first()
        pages += [
            ("review list", "/reviews/"),
            ("open action items", "/action-items/"),
            ("incident metrics", "/reviews/metrics/"),
        ]
        if review:
            pages.append(("review", review.get_absolute_url()))
        return pages

    def handle(self, *args, requests, user, **options):
        if requests < 1:
            raise CommandError("--requests must be at least 1.")
        account = get_user_model().objects.filter(username=user).first()
        if account is None:
            raise CommandError(f"No user {user!r}: run `manage.py seed_demo` or pass --user.")
        if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        client = Client()
        client.force_login(account)
        pages = self.pages()
        rows = []
        for label, url in tqdm(pages, desc="Benchmarking pages", unit="page", file=self.stderr._out):
            timings, queries, status = [], 0, None
            for attempt in range(requests + 1):  # the first request warms caches and is not counted
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url, secure=True)
                    elapsed = (time.perf_counter() - started) * 1000
                status, queries = response.status_code, len(captured)
                if attempt:
                    timings.append(elapsed)
            rows.append((label, url, status, queries, timings))

        baseline = statistics.median(rows[0][4])
        self.stdout.write(
            f"\n{'page':28} {'status':>6} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p50/base':>9}"
        )
        for label, _url, status, queries, timings in rows:
            p50 = statistics.median(timings)
            self.stdout.write(
                f"{label:28} {status:>6} {queries:>7} {p50:>8.1f} {percentile(timings, 0.95):>8.1f} "
                f"{max(timings):>8.1f} {p50 / baseline:>8.1f}x"
            )
        slowest = max(rows[1:], key=lambda row: statistics.median(row[4]))
        self.stdout.write(
            self.style.SUCCESS(
                f"\nMeasured {len(rows)} pages × {requests} requests on {connection.vendor} as {user}; "
                f"slowest p50: {slowest[0]} ({statistics.median(slowest[4]):.1f} ms)."
            )
        )
