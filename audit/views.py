"""The audit page (/audit/): the governance log filtered by object, user, action and date, and as CSV."""

import csv
import json

from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from audit.forms import AuditFilterForm
from audit.models import AuditEvent
from audit.permissions import access_audit_log, events_about, readable_events

PAGE_SIZE = 50
CSV_HEADERS = [
    "id",
    "occurred_at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "object",
    "payload",
    "previous_hash",
    "row_hash",
]
# A spreadsheet runs a cell starting with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value):
    return f"'{value}" if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _filtered_events(request, form, *, sees_everything):
    events = readable_events(AuditEvent.objects.select_related("actor"), request.user, sees_everything=sees_everything)
    if not form.is_valid():
        return events.none()
    data = form.cleaned_data
    if data["object"]:
        events = events_about(events, data["object"])
    if data["user"]:
        events = events.filter(actor__username=data["user"].strip())
    if data["action"]:
        events = events.filter(action__startswith=data["action"].strip())
    if data["since"]:
        events = events.filter(occurred_at__date__gte=data["since"])
    if data["until"]:
        events = events.filter(occurred_at__date__lte=data["until"])
    return events.order_by("-id")


class _Echo:
    def write(self, value):
        return value


def _csv_response(events):
    writer = csv.writer(_Echo())

    def rows():
        yield writer.writerow(CSV_HEADERS)
        for event in events.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    _spreadsheet_safe(value)
                    for value in (
                        event.pk,
                        event.occurred_at.isoformat(),
                        event.actor.username if event.actor else "",
                        event.action,
                        event.object_type,
                        event.object_id,
                        event.object_repr,
                        json.dumps(event.payload, sort_keys=True, ensure_ascii=False),
                        event.previous_hash,
                        event.row_hash,
                    )
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response


@require_GET
def event_list(request):
    form = AuditFilterForm({key: value for key, value in request.GET.items() if key not in {"page", "format"}})
    target = form.cleaned_data.get("object") if form.is_valid() else None
    sees_everything = access_audit_log(request.user, target)
    events = _filtered_events(request, form, sees_everything=sees_everything)
    if request.GET.get("format") == "csv":
        return _csv_response(events)
    return render(
        request,
        "audit/event_list.html",
        {
            "form": form,
            "target": target,
            "page_obj": Paginator(events, PAGE_SIZE).get_page(request.GET.get("page")),
        },
    )
