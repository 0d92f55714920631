"""Reading reviews: the list, the review itself, open action items and incident metrics.

Every page reads reviews through reviews.permissions (visible_reviews,
access_review), so a restricted review is absent from lists and a 404 for those
who may not see it. Each page reads with a fixed number of queries.
"""

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Case, F, IntegerField, Prefetch, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from approvals.models import ChangeRequest
from core.moments import quarter_bounds
from reviews import actions, forms
from reviews.choices import OPEN_ACTION_STATUSES, ReviewStatus
from reviews.counting import split_incidents
from reviews.figures import attach_figures, review_figures, reviews_with_figures_prefetched
from reviews.metrics import METRICS, median_of, p90_of
from reviews.models import ActionItem, PostIncidentReview
from reviews.permissions import access_review, may_update_action_item, visible_reviews, with_may_update
from reviews.views.common import PAGE_SIZE, link_lines

ANALYSIS = (
    "trigger",
    "root_causes",
    "contributing_factors",
    "detection",
    "resolution",
    "went_well",
    "went_wrong",
    "got_lucky",
)


# The list ---------------------------------------------------------------------------


def _filtered_reviews(user, filter_form):
    queryset = reviews_with_figures_prefetched(visible_reviews(user))
    if not filter_form.is_valid():
        return queryset, None
    wanted = filter_form.cleaned_data
    if wanted.get("service"):
        queryset = queryset.filter(pk__in=PostIncidentReview.objects.filter(services=wanted["service"]).values("pk"))
    if wanted.get("team"):
        queryset = queryset.filter(
            pk__in=PostIncidentReview.objects.filter(services__owner_team=wanted["team"]).values("pk")
        )
    if wanted.get("severity"):
        queryset = queryset.filter(severity=wanted["severity"])
    if wanted.get("category"):
        queryset = queryset.filter(category=wanted["category"])
    if wanted.get("quarter"):
        start, end = quarter_bounds(wanted["quarter"])
        queryset = queryset.filter(started_at__gte=start, started_at__lt=end)
    if wanted.get("status"):
        queryset = queryset.filter(status=wanted["status"])
    if wanted.get("kind") == filter_form.INCIDENTS:
        queryset = queryset.filter(is_drill=False)
    elif wanted.get("kind") == filter_form.DRILLS:
        queryset = queryset.filter(is_drill=True)
    return queryset, wanted.get("breached") or None


@require_GET
def review_list(request):
    filter_form = forms.ReviewFilterForm(request.GET or None, user=request.user)
    queryset, breached = _filtered_reviews(request.user, filter_form)
    if breached:
        # Whether a review breached is worked out from its pinned agreement versions, not
        # stored, so this filter reads every candidate row (in the same fixed number of
        # queries) before paginating. Fine for hundreds of reviews; a stored flag would
        # be the next step if it ever becomes thousands.
        want_breach = breached == filter_form.YES
        candidates = [review for review in attach_figures(queryset) if bool(review.counted_breaches) == want_breach]
        page = Paginator(candidates, PAGE_SIZE).get_page(request.GET.get("page"))
    else:
        page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
        attach_figures(page.object_list)
    return render(
        request,
        "reviews/review_list.html",
        {
            "reviews": page.object_list,
            "page_obj": page,
            "filter_form": filter_form,
            "is_filtered": any(value for key, value in request.GET.items() if key != "page"),
        },
    )


# The review -------------------------------------------------------------------------


def review_page_context(request, review, **extra):
    """What the review page shows; the publish form may come back bound, with errors."""
    figures = review_figures(review, pinned_versions=list(review.pinned_versions.all()), contacts=True)
    authors = list(review.authors.all())
    is_author = any(author.pk == request.user.pk for author in authors)
    return {
        "review": review,
        "figures": figures,
        "counted_breaches": [] if review.is_drill else figures.breaches,
        "authors": authors,
        "is_author": is_author,
        "can_edit": review.status == ReviewStatus.DRAFT and is_author,
        "link_lines": link_lines(review.links),
        "analysis": [
            (PostIncidentReview._meta.get_field(name).verbose_name.capitalize(), getattr(review, name))
            for name in ANALYSIS
        ],
        "change_requests": list(
            ChangeRequest.objects.filter(document_kind="review", document_id=review.pk).select_related("author")
        ),
        "publish_form": extra.pop("publish_form", None) or forms.ChangeForm(),
        **extra,
    }


def detail_queryset():
    return reviews_with_figures_prefetched().prefetch_related(
        "journeys",
        "restricted_to",
        "authors",
        "timeline",
        Prefetch("action_items", queryset=ActionItem.objects.select_related("owner_team", "assignee")),
    )


@require_GET
def review_detail(request, reference):
    review = access_review(request.user, reference, detail_queryset())
    return render(request, "reviews/review_detail.html", review_page_context(request, review))


# Action items -----------------------------------------------------------------------


@require_GET
def action_item_list(request):
    filter_form = forms.ActionItemFilterForm(request.GET or None)
    today = timezone.localdate()
    items = (
        ActionItem.objects.filter(review__in=visible_reviews(request.user), status__in=OPEN_ACTION_STATUSES)
        .select_related("review", "review__severity", "owner_team", "assignee")
        .annotate(
            overdue_first=Case(When(due_date__lt=today, then=Value(0)), default=Value(1), output_field=IntegerField())
        )
        .order_by("overdue_first", F("due_date").asc(nulls_last=True), "pk")
    )
    items = with_may_update(items, request.user)
    if filter_form.is_valid() and filter_form.cleaned_data.get("team"):
        items = items.filter(owner_team=filter_form.cleaned_data["team"])
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page.object_list:
        item.is_overdue = item.due_date is not None and item.due_date < today
    return render(
        request,
        "reviews/action_item_list.html",
        {
            "items": page.object_list,
            "page_obj": page,
            "filter_form": filter_form,
            "is_filtered": bool(request.GET.get("team")),
            "done_form": forms.ActionItemDoneForm(),
        },
    )


@require_POST
def action_item_done(request, pk):
    item = get_object_or_404(
        ActionItem.objects.select_related("review", "owner_team").filter(review__in=visible_reviews(request.user)),
        pk=pk,
    )
    # Before anything else: whoever may not update the item is refused (403), whatever its state or the form.
    if not may_update_action_item(request.user, item):
        raise PermissionDenied(
            f"Only {item.owner_team}, the authors of the review and the SLA committee can update “{item}”."
        )
    back = request.POST.get("next")
    if not back or not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("reviews:action_item_list")
    if item.status not in OPEN_ACTION_STATUSES:
        messages.info(request, f"“{item}” is already {item.get_status_display().lower()}.")
        return redirect(back)
    done_form = forms.ActionItemDoneForm(request.POST)
    if not done_form.is_valid():
        messages.error(request, f"“{item}” is still open: {' '.join(done_form.errors['note'])}")
        return redirect(back)
    try:
        actions.complete_action_item(item, note=done_form.cleaned_data["note"], acting_user=request.user)
    except ValidationError as error:
        messages.error(request, f"“{item}” is still open: {' '.join(error.messages)}")
    else:
        messages.success(request, f"“{item}” of {item.review.reference} is done.")
    return redirect(back)


# Incident metrics -------------------------------------------------------------------


@dataclass
class MetricsRow:
    """One service or team over a quarter: its incidents' metrics and the SLA breaches they caused."""

    name: str
    url: str
    owner: object = None
    reviews: list = field(default_factory=list)
    breaches: int = 0

    @property
    def incidents(self):
        return len(self.reviews)

    @property
    def figures(self):
        return [
            (
                label,
                median_of(getattr(review.figures.metrics, name) for review in self.reviews),
                p90_of(getattr(review.figures.metrics, name) for review in self.reviews),
            )
            for name, label in METRICS
        ]


def metrics_rows(reviews):
    """Per service and per team (owner of an affected service), in name order."""
    by_service, by_team = {}, {}
    for review in reviews:
        teams_seen = set()
        for service in review.services.all():
            row = by_service.setdefault(
                service.pk, MetricsRow(service.name, service.get_absolute_url(), owner=service.owner_team)
            )
            row.reviews.append(review)
            team = service.owner_team
            team_row = by_team.setdefault(team.pk, MetricsRow(team.name, team.get_absolute_url()))
            if team.pk not in teams_seen:
                team_row.reviews.append(review)
                teams_seen.add(team.pk)
        for agreement in review.figures.agreements:
            breached = len(agreement.breaches)
            if agreement.service.pk in by_service:
                by_service[agreement.service.pk].breaches += breached
            if agreement.service.owner_team_id in by_team:
                by_team[agreement.service.owner_team_id].breaches += breached
    return (
        sorted(by_service.values(), key=lambda row: row.name.lower()),
        sorted(by_team.values(), key=lambda row: row.name.lower()),
    )


@require_GET
def review_metrics(request):
    metrics_form = forms.MetricsForm(request.GET or None, user=request.user)
    quarter = metrics_form.chosen_quarter
    start, end = quarter_bounds(quarter)
    # Published reviews of real incidents that started in the quarter (reviews.counting); drafts and reviews in
    # review are read in the same query and listed apart, as awaiting review. Drills are left out.
    incidents = split_incidents(
        attach_figures(
            reviews_with_figures_prefetched(visible_reviews(request.user)).filter(
                is_drill=False, started_at__gte=start, started_at__lt=end
            )
        )
    )
    service_rows, team_rows = metrics_rows(incidents.counted)
    return render(
        request,
        "reviews/review_metrics.html",
        {
            "metrics_form": metrics_form,
            "quarter": quarter,
            "incidents": incidents,
            "tables": [("Per service", service_rows, "service"), ("Per team", team_rows, "team")],
            "metric_labels": [label for _, label in METRICS],
        },
    )
