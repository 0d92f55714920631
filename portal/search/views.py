from django.apps import apps
from django.shortcuts import render

from portal.search.backends import Filters, search
from portal.search.models import DocumentKind


def _page_number(value):
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def results(request):
    """/search/?q=…&kind=…&service=…&team=…: ranked results; an htmx request gets only the results partial."""
    text = request.GET.get("q", "")
    kinds = tuple(kind for kind in request.GET.getlist("kind") if kind in DocumentKind.values)
    filters = Filters(kinds=kinds, service=request.GET.get("service", "")[:100], team=request.GET.get("team", "")[:100])
    found = search(text, user=request.user, filters=filters, page=_page_number(request.GET.get("page")))
    context = {"q": text, "filters": filters, "results": found, "kinds": DocumentKind.choices}
    wants_partial = request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    if wants_partial:
        return render(request, "search/_results.html", context)
    context["services"] = apps.get_model("sla_registry", "Service").objects.values_list("slug", "name")
    context["teams"] = apps.get_model("sla_registry", "Team").objects.values_list("slug", "name")
    return render(request, "search/results.html", context)
