"""Releases: the list with filters, a release's page (its changes, its freeze windows), and hand entry."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from approvals.choices import ChangeState
from approvals.exceptions import NotAllowed
from approvals.models import ChangeRequest
from approvals.permissions import visible_change_requests
from releases import actions
from releases.forms import LinkChangeRequestForm, ReleaseFilterForm, ReleaseForm
from releases.freeze import freezes_during
from releases.models import Release
from releases.permissions import can_add_release, can_edit_release
from releases.scheduling import make_effective_with_release
from sla_registry.views.common import PAGE_SIZE, RegistryFormMixin, reason

# Requests whose author may still choose when they take effect.
LINKABLE_STATES = (ChangeState.DRAFT, ChangeState.IN_REVIEW, ChangeState.REJECTED)


class ReleaseListView(ListView):
    paginate_by = PAGE_SIZE
    context_object_name = "releases"
    template_name = "releases/release_list.html"

    def get_queryset(self):
        self.filter_form = ReleaseFilterForm(self.request.GET)
        self.filter_form.is_valid()  # an unknown value drops out of cleaned_data and is ignored
        chosen = self.filter_form.cleaned_data
        now = timezone.now()
        releases = Release.objects.select_related("calendar__team").prefetch_related("services")
        when = chosen.get("when") or ReleaseFilterForm.UPCOMING
        if when == ReleaseFilterForm.UPCOMING:
            releases = releases.filter(ends_at__gte=now).order_by("starts_at", "pk")
        elif when == ReleaseFilterForm.PAST:
            releases = releases.filter(ends_at__lt=now).order_by("-starts_at", "-pk")
        else:
            releases = releases.order_by("-starts_at", "-pk")
        for field in ("kind", "risk", "status", "calendar"):
            if chosen.get(field):
                releases = releases.filter(**{field: chosen[field]})
        if chosen.get("service"):
            releases = releases.filter(services=chosen["service"])
        if chosen.get("team"):
            team = chosen["team"]
            releases = releases.filter(Q(calendar__team=team) | Q(services__owner_team=team))
        if chosen.get("service") or chosen.get("team"):
            releases = releases.distinct()
        return releases

    def get_context_data(self, **kwargs):
        chosen = self.filter_form.cleaned_data
        is_filtered = any(value for key, value in chosen.items() if key != "when")
        return super().get_context_data(
            filter_form=self.filter_form,
            is_filtered=is_filtered,
            can_add=can_add_release(self.request.user),
            **kwargs,
        )


class ReleaseDetailView(DetailView):
    queryset = Release.objects.select_related("calendar__team", "created_by").prefetch_related("services__owner_team")
    template_name = "releases/release_detail.html"
    context_object_name = "release"

    def get_context_data(self, **kwargs):
        release, user = self.object, self.request.user
        services = list(release.services.all())
        links = list(
            release.change_links.filter(change_request__in=visible_change_requests(user)).select_related(
                "change_request__author"
            )
        )
        freezes = []
        if release.kind != "freeze":
            freezes = list(freezes_during(release.starts_at, release.ends_at, services))
        return super().get_context_data(
            services=services,
            links=links,
            freezes=freezes,
            link_form=_link_form(release, user),
            can_edit=can_edit_release(user, release),
            **kwargs,
        )


def _linkable_requests(release, user):
    """The user's open requests about a service of this release, not yet effective with it."""
    if release.is_cancelled or release.starts_at <= timezone.now():
        return []
    slugs = {service.slug for service in release.services.all()}
    candidates = ChangeRequest.objects.filter(author=user, state__in=LINKABLE_STATES).exclude(
        release_link__release=release
    )
    return [
        change_request
        for change_request in candidates
        if slugs & set(change_request.governed_kind.services_of(change_request.proposed))
    ]


def _link_form(release, user, data=None):
    candidates = _linkable_requests(release, user)
    return LinkChangeRequestForm(data, change_requests=candidates) if candidates else None


@require_POST
def link_change_request(request, pk):
    release = get_object_or_404(Release.objects.prefetch_related("services"), pk=pk)
    form = _link_form(release, request.user, request.POST)
    if form is None or not form.is_valid():
        messages.error(request, "Choose one of your open change requests about a service of this release.")
        return redirect(release)
    change_request = form.cleaned_data["change_request"]
    try:
        make_effective_with_release(change_request, release, acting_user=request.user)
    except (ValidationError, NotAllowed) as error:
        messages.error(request, " ".join(getattr(error, "messages", [str(error)])))
    else:
        messages.success(request, f"{change_request.reference} now takes effect with {release.label}.")
    return redirect(release)


class ReleaseFormMixin(RegistryFormMixin):
    model = Release
    form_class = ReleaseForm
    list_url_name = "releases:release_list"
    template_name = "releases/release_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def save_object(self, form):
        return actions.save_release(
            form.instance,
            services=list(form.cleaned_data["services"]),
            acting_user=self.request.user,
            reason=reason(form),
        )


class ReleaseCreateView(ReleaseFormMixin, CreateView):
    def has_permission(self):
        return can_add_release(self.request.user)


class ReleaseUpdateView(ReleaseFormMixin, UpdateView):
    queryset = Release.objects.select_related("calendar").prefetch_related("services")

    def has_permission(self):
        self.release = self.get_object()
        return can_edit_release(self.request.user, self.release)

    def handle_no_permission(self):
        release = self.release
        if release.is_imported:
            raise PermissionDenied(f"“{release}” comes from the calendar {release.calendar}: change it there.")
        return super().handle_no_permission()
