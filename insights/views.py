from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache

from approvals.permissions import approvals_waiting_for
from insights.executive import headline_figures
from sla_registry.choices import AgreementStatus, TeamKind
from sla_registry.models import Service, ServiceLevelAgreement, Team

HOME_APPROVALS_SHOWN = 5


def home(request):
    """What the person does most comes first: approving, then the summary (leadership), then the on-call cards."""
    user = request.user
    my_teams = list(Team.objects.filter(group__user=user).order_by("name"))
    waiting = list(approvals_waiting_for(user))
    is_leader = any(team.kind == TeamKind.LEADERSHIP or team.is_sla_committee for team in my_teams)
    # An engineer is a member of a team that owns services: their on-call cards are one click away.
    my_services = (
        list(Service.objects.filter(owner_team__in=[team.pk for team in my_teams]).select_related("owner_team"))
        if my_teams
        else []
    )
    active_slas = ServiceLevelAgreement.objects.filter(status=AgreementStatus.ACTIVE)
    counts = {
        "slas": active_slas.count(),
        "overdue": active_slas.filter(next_review_due__lt=timezone.now()).count(),
        "services": Service.objects.count(),
        "teams": Team.objects.count(),
    }
    return render(
        request,
        "insights/home.html",
        {
            "counts": counts,
            "my_teams": my_teams,
            "approvals_waiting": waiting[:HOME_APPROVALS_SHOWN],
            "approvals_waiting_count": len(waiting),
            "headline": headline_figures(user) if is_leader else None,
            "my_services": my_services,
        },
    )


@login_not_required
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says: send them to the icon the pages name."""
    return HttpResponsePermanentRedirect(static("portal/favicon.svg"))


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
