"""Calendars: the list, a calendar's page (its syncs, what changed, any error), upload, sync now, and rules.

A large upload is imported in the background (releases.uploads): the page shows its progress, refreshed by
static/js/calendar-import-progress.js polling `import_progress`.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from releases import actions, importing, uploads
from releases.choices import ReleaseStatus, SyncSource
from releases.forms import CalendarForm, CalendarUploadForm, ServiceRuleFormSet
from releases.models import Calendar, CalendarImport
from releases.permissions import can_manage_calendar, manageable_teams
from sla_registry.views.common import PAGE_SIZE, RegistryFormMixin, add_action_errors, reason

RECENT_SYNCS = 10
RECENT_IMPORTS = 3
UPCOMING_RELEASES = 10


class CalendarListView(ListView):
    queryset = (
        Calendar.objects.select_related("team")
        .annotate(release_count=Count("releases", filter=Q(releases__status=ReleaseStatus.SCHEDULED)))
        .order_by("name")
    )
    paginate_by = PAGE_SIZE
    context_object_name = "calendars"
    template_name = "releases/calendar_list.html"

    def get_context_data(self, **kwargs):
        can_add = self.request.user.has_perm("releases.add_calendar") or manageable_teams(self.request.user).exists()
        return super().get_context_data(can_add=can_add, **kwargs)


class CalendarDetailView(DetailView):
    queryset = Calendar.objects.select_related("team")
    template_name = "releases/calendar_detail.html"
    context_object_name = "calendar"

    def get_context_data(self, **kwargs):
        calendar = self.object
        can_manage = can_manage_calendar(self.request.user, calendar)
        return super().get_context_data(
            default_services=calendar.default_services.all(),
            rules=calendar.rules.select_related("service"),
            syncs=calendar.syncs.select_related("started_by")[:RECENT_SYNCS],
            background_imports=calendar.imports.defer("content").select_related("uploaded_by")[:RECENT_IMPORTS],
            upcoming=calendar.releases.filter(ends_at__gte=timezone.now())
            .prefetch_related("services")
            .order_by("starts_at")[:UPCOMING_RELEASES],
            can_manage=can_manage,
            upload_form=CalendarUploadForm() if can_manage else None,
            **kwargs,
        )


class CalendarFormMixin(RegistryFormMixin):
    model = Calendar
    form_class = CalendarForm
    list_url_name = "releases:calendar_list"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def save_object(self, form):
        return actions.save_calendar(
            form.instance,
            default_services=list(form.cleaned_data["default_services"]),
            acting_user=self.request.user,
            reason=reason(form),
        )


class CalendarCreateView(CalendarFormMixin, CreateView):
    def has_permission(self):
        return manageable_teams(self.request.user).exists()


class CalendarUpdateView(CalendarFormMixin, UpdateView):
    queryset = Calendar.objects.select_related("team")

    def has_permission(self):
        return can_manage_calendar(self.request.user, self.get_object())


def _managed_calendar(request, slug):
    calendar = get_object_or_404(Calendar.objects.select_related("team"), slug=slug)
    if not can_manage_calendar(request.user, calendar):
        raise PermissionDenied(f"Only members of {calendar.team} can change the calendar {calendar}.")
    return calendar


def _report(request, calendar, sync):
    if not sync.error:  # a failure is told once, by the calendar page's "The last import failed" notice
        messages.success(
            request,
            f"{calendar}: {sync.added} added, {sync.updated} updated, {sync.cancelled} cancelled, "
            f"{sync.unchanged} unchanged.",
        )


@require_POST
def upload(request, slug):
    calendar = _managed_calendar(request, slug)
    form = CalendarUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, " ".join(error for errors in form.errors.values() for error in errors))
        return redirect(calendar)
    upload = form.cleaned_data["file"]
    if uploads.needs_background(upload.size):
        queued = uploads.queue_upload(calendar, file_name=upload.name, content=upload.read(), acting_user=request.user)
        messages.info(
            request,
            f"{queued.file_name} ({filesizeformat(upload.size)}) is importing in the background: "
            "its progress is shown below.",
        )
        return redirect(calendar)
    sync = importing.import_calendar(calendar, upload.read(), source=SyncSource.UPLOAD, acting_user=request.user)
    _report(request, calendar, sync)
    return redirect(calendar)


def import_progress(request, slug, pk):
    """How far a background import has got, as JSON, for the calendar page's poll."""
    upload = get_object_or_404(CalendarImport.objects.defer("content"), pk=pk, calendar__slug=slug)
    response = JsonResponse(upload.progress())
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def sync_now(request, slug):
    calendar = _managed_calendar(request, slug)
    if not calendar.is_feed:
        messages.error(request, f"{calendar} has no feed URL: upload its .ics file instead.")
        return redirect(calendar)
    _report(request, calendar, importing.sync_calendar(calendar, acting_user=request.user))
    return redirect(calendar)


def edit_rules(request, slug):
    calendar = _managed_calendar(request, slug)
    formset = ServiceRuleFormSet(request.POST or None, instance=calendar, prefix="rules")
    if request.method == "POST" and formset.is_valid():
        kept = [form.instance for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        try:
            actions.save_rules(calendar, kept, acting_user=request.user, reason="Service rules edited")
        except ValidationError as error:
            add_action_errors(formset.forms[0], error)
        else:
            messages.success(request, f"Saved {len(kept)} rule{'s' if len(kept) != 1 else ''} of {calendar}.")
            return redirect(calendar)
    return render(request, "releases/calendar_rules.html", {"calendar": calendar, "formset": formset})
