"""Your feed links: the personal addresses calendar programs read the portal's feeds with.

Each link is listed with when it was made, when it expires and when it was last used; a new link's
address is shown once, when it is made (or rotated), like an API token: the portal keeps only a digest.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from releases import actions, feed_tokens
from releases.feeds import feed_address, webcal
from releases.models import FeedToken
from sla_registry.models import Service, Team


def _chosen_feed(data):
    """The service or team feed the reader came for (?service=slug or ?team=slug), if it exists."""
    if slug := data.get("service", ""):
        service = Service.objects.filter(slug=slug).first()
        if service:
            return {"kind": "service", "object": service, "url_name": "releases:feed_service"}
    if slug := data.get("team", ""):
        team = Team.objects.filter(slug=slug).first()
        if team:
            return {"kind": "team", "object": team, "url_name": "releases:feed_team"}
    return None


def _feeds(request, chosen, token=None):
    """[(what it shows, address, webcal address)], the chosen feed first."""
    rows = []
    if chosen:
        subject = chosen["object"]
        label = f"Releases of {subject.name}" + (" and its dependencies" if chosen["kind"] == "service" else "")
        rows.append((label, feed_address(request, chosen["url_name"], token=token, slug=subject.slug)))
    rows.append(("All releases", feed_address(request, "releases:feed_all", token=token)))
    governance = feed_address(request, "releases:feed_governance", token=token)
    rows.append(("Governance: review due dates and scheduled changes", governance))
    return [(label, address, webcal(address)) for label, address in rows]


def _page(request, *, new_link=None, errors=None, status=200):
    now = timezone.now()
    data = request.POST if request.method == "POST" else request.GET
    chosen = _chosen_feed(data)
    tokens = [
        {"token": token, "ended": feed_tokens.ended_because(token, now)}
        for token in FeedToken.objects.filter(user=request.user).select_related("user")
    ]
    if new_link is not None:
        token, text = new_link
        new_link = {"token": token, "feeds": _feeds(request, chosen, token=text)}
    return render(
        request,
        "releases/feed_links.html",
        {
            "tokens": tokens,
            "new_link": new_link,
            "feeds": _feeds(request, chosen),
            "chosen": chosen,
            "errors": errors or {},
            "form_label": data.get("label", "") if errors else "",
            "lifetime_days": feed_tokens.lifetime().days,
        },
        status=status,
    )


def feed_links(request):
    """Your feed links; POST makes one and shows its address this once."""
    if request.method != "POST":
        return _page(request)
    try:
        new_link = actions.create_feed_token(label=request.POST.get("label", ""), acting_user=request.user)
    except ValidationError as error:
        return _page(request, errors=error.message_dict, status=400)
    return _page(request, new_link=new_link)


def _own_token(request, pk):
    return get_object_or_404(FeedToken.objects.select_related("user"), pk=pk, user=request.user)


@require_POST
def revoke_feed_link(request, pk):
    token = _own_token(request, pk)
    try:
        actions.revoke_feed_token(token, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, f"Feed link “{token.label}” is revoked: calendar programs using it get no more updates."
        )
    return redirect("releases:feed_links")


@require_POST
def rotate_feed_link(request, pk):
    """A new address in place of the old one, which stops working at once; the new one is shown this once."""
    token = _own_token(request, pk)
    try:
        new_link = actions.rotate_feed_token(token, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("releases:feed_links")
    messages.success(request, f"Feed link “{token.label}” is replaced: the old address no longer works.")
    return _page(request, new_link=new_link)
