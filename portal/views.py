from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from sla_registry.choices import AgreementStatus
from sla_registry.models import Service, ServiceLevelAgreement, Team


def home(request):
    active_slas = ServiceLevelAgreement.objects.filter(status=AgreementStatus.ACTIVE)
    counts = {
        "slas": active_slas.count(),
        "overdue": active_slas.filter(next_review_due__lt=timezone.now()).count(),
        "services": Service.objects.count(),
        "teams": Team.objects.count(),
    }
    my_teams = Team.objects.filter(group__user=request.user)
    return render(request, "portal/home.html", {"counts": counts, "my_teams": my_teams})


@login_not_required
@never_cache
def healthz(request):
    """Liveness for load balancers: 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})
