"""The on-call card page of a service: /services/<slug>/oncall/?severity=SEV2&at=2026-10-01T09:00."""

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.moments import parse_moment
from insights.oncall import DEFAULT_SEVERITY, build_card
from sla_registry.models import Service

# Far enough for any incident worth reading about, and far from the datetime limits (at ± 72 h must exist).
EARLIEST_YEAR, LATEST_YEAR = 1970, 2100
LONGEST_SHOWN_INPUT = 60


def _shown(text):
    return text if len(text) <= LONGEST_SHOWN_INPUT else f"{text[:LONGEST_SHOWN_INPUT]}…"


@require_GET
def oncall_card(request, slug):
    service = get_object_or_404(Service, slug=slug)
    problems = []

    at_text = request.GET.get("at", "").strip()
    at = parse_moment(at_text) if at_text else None
    if at is not None and not EARLIEST_YEAR <= at.year <= LATEST_YEAR:
        at = None
    if at_text and at is None:
        problems.append(
            f"“{_shown(at_text)}” is not a date and time between {EARLIEST_YEAR} and {LATEST_YEAR}: "
            "showing the card as it applies now."
        )

    severity_key = request.GET.get("severity", "").strip() or DEFAULT_SEVERITY
    card = build_card(service, severity_key=severity_key, at=at, user=request.user)
    if card.severity_unknown:
        if card.severity is None:
            problems.append("No severity is defined yet: the taxonomy page is where they are set up.")
        else:
            problems.append(f"There is no severity “{_shown(severity_key)}”: showing {card.severity.key}.")

    return render(
        request,
        "insights/oncall_card.html",
        {
            "service": service,
            "card": card,
            "problems": problems,
            "at_value": "" if card.is_now else timezone.localtime(card.at).strftime("%Y-%m-%dT%H:%M"),
        },
    )
