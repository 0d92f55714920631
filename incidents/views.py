"""The incident pages: the list, the live incident (status, clocks with time left, timeline), declaring,
the status buttons, and the committee's unrouted inbox. Every read goes through incidents.permissions."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.exceptions import InvalidTransition, NotAllowed
from incidents import actions, forms
from incidents.models import OPEN_STATUSES, Clock, Incident, IncidentEvent, Notice, UnroutedEvent
from incidents.permissions import access_incident, may_act_on, may_declare, may_route, visible_incidents
from sla_registry.models import Service

PAGE_SIZE = 25


def incident_list(request):
    filter_form = forms.IncidentFilterForm(request.GET or None)
    incidents = (
        visible_incidents(request.user)
        .select_related("severity")
        .prefetch_related(
            Prefetch("services", Service.objects.only("pk", "name", "slug").order_by("name")),
            Prefetch("clocks", Clock.objects.order_by("due_at", "pk")),
        )
    )
    if filter_form.is_valid():
        data = filter_form.cleaned_data
        if data["service"]:
            incidents = incidents.filter(services=data["service"])
        if data["severity"]:
            incidents = incidents.filter(severity=data["severity"])
        if data["status"] == "open":
            incidents = incidents.filter(status__in=OPEN_STATUSES)
        elif data["status"]:
            incidents = incidents.filter(status=data["status"])
        if data["kind"]:
            incidents = incidents.filter(is_drill=data["kind"] == "drills")
    page = Paginator(incidents.order_by("-started_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    for incident in page.object_list:
        running = [clock for clock in incident.clocks.all() if clock.state_at(now) == "running" and not clock.repeats]
        incident.next_clock = running[0] if running else None
        incident.breached_clocks = sum(1 for clock in incident.clocks.all() if clock.state_at(now) == "breached")
    return render(
        request,
        "incidents/incident_list.html",
        {
            "page_obj": page,
            "filter_form": filter_form,
            "is_filtered": any(value for key, value in request.GET.items() if key != "page"),
            "may_declare": may_declare(request.user),
            "may_route": may_route(request.user),
            "now": now,
        },
    )


def incident_detail(request, reference):
    incident = access_incident(request.user, reference)
    incident = (
        Incident.objects.select_related("severity", "category", "integration", "declared_by")
        .prefetch_related(
            Prefetch("services", Service.objects.select_related("owner_team").order_by("name")),
            Prefetch("clocks", Clock.objects.select_related("service", "version")),
            Prefetch("events", IncidentEvent.objects.select_related("actor")),
            Prefetch("notices", Notice.objects.select_related("team", "clock")),
        )
        .get(pk=incident.pk)
    )
    now = timezone.now()
    clocks = list(incident.clocks.all())
    for clock in clocks:
        clock.current_state = clock.state_at(now)
        clock.next_due_at = clock.next_due(now)
        clock.remaining = clock.next_due_at - now
    may_act = may_act_on(request.user, incident)
    buttons = [name for name, allowed in actions.ALLOWED_FROM.items() if incident.status in allowed] if may_act else []
    return render(
        request,
        "incidents/incident_detail.html",
        {
            "incident": incident,
            "clocks": clocks,
            "events": incident.events.all(),
            "notices": incident.notices.all(),
            "buttons": buttons,
            "now": now,
        },
    )


def incident_declare(request):
    if not may_declare(request.user):
        raise PermissionDenied("Only members of a team declare incidents.")
    form = forms.DeclareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            incident = actions.open_incident(
                title=data["title"],
                services=list(data["services"]),
                severity=data["severity"],
                category=data["category"],
                started_at=data["started_at"] or timezone.now(),
                is_drill=data["is_drill"],
                is_restricted=data["is_restricted"],
                acting_user=request.user,
            )
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, f"{incident.reference} declared: its clocks are running.")
            return redirect(incident)
    return render(request, "incidents/incident_form.html", {"form": form})


@require_POST
def incident_act(request, reference, action):
    if action not in actions.ALLOWED_FROM:
        raise Http404("No such action.")
    incident = access_incident(request.user, reference)
    try:
        actions.act_on_incident(incident, action, acting_user=request.user, note=request.POST.get("note", "")[:500])
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except InvalidTransition as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{incident.reference}: {action} recorded.")
    return redirect(incident)


def unrouted_list(request):
    if not may_route(request.user):
        raise PermissionDenied("The unrouted inbox is the SLA committee's.")
    events = UnroutedEvent.objects.filter(routed_incident__isnull=True).select_related("integration")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/unrouted_list.html",
        {"page_obj": page, "route_form": forms.RouteForm(), "is_filtered": False},
    )


@require_POST
def unrouted_route(request, pk):
    if not may_route(request.user):
        raise PermissionDenied("The unrouted inbox is the SLA committee's.")
    unrouted = get_object_or_404(UnroutedEvent, pk=pk)
    form = forms.RouteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a service and a severity to route the event.")
        return redirect("incidents:unrouted_list")
    try:
        incident = actions.route_unrouted(
            unrouted, service=form.cleaned_data["service"], severity=form.cleaned_data["severity"],
            acting_user=request.user,
        )  # fmt: skip
    except InvalidTransition as error:
        messages.error(request, str(error))
        return redirect("incidents:unrouted_list")
    messages.success(request, f"Routed: {incident.reference}.")
    return redirect(incident)
