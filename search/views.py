from collections import Counter

from django.apps import apps
from django.shortcuts import render

from search.backends import Filters, search, suggest
from search.models import DocumentKind, SearchDocument
from search.query import MAX_QUERY_LENGTH

# The service and team lists offer what the results concern, not the whole registry: an organisation
# with ten thousand services would otherwise send them all with every search page.
MOST_FILTER_CHOICES = 50


def _page_number(value):
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return 1


def filter_choices(results, filters):
    """{"services": [(slug, name)], "teams": [...]}: those the ranked results concern (the most frequent,
    up to MOST_FILTER_CHOICES of each, by name), and the one filtered on. Three queries at most."""
    services, teams = Counter(), Counter()
    if results.ranked_ids:
        rows = SearchDocument.objects.filter(pk__in=results.ranked_ids).values_list("service_slugs", "team_slugs")
        for service_slugs, team_slugs in rows:
            services.update(service_slugs.split())
            teams.update(team_slugs.split())
    return {
        "services": _named("Service", services, filters.service),
        "teams": _named("Team", teams, filters.team),
    }


def _named(model_name, counts, selected):
    slugs = [slug for slug, _count in counts.most_common(MOST_FILTER_CHOICES)]
    if selected and selected not in slugs:
        slugs.append(selected)
    if not slugs:
        return []
    model = apps.get_model("sla_registry", model_name)
    names = dict(model.objects.filter(slug__in=slugs).values_list("slug", "name"))
    return sorted(((slug, names[slug]) for slug in slugs if slug in names), key=lambda choice: choice[1].casefold())


def results(request):
    """/search/?q=…&kind=…&service=…&team=…: ranked results.

    An htmx request (typing in the box) gets the results partial, with the service and team lists swapped
    out of band, since what they offer follows the results.
    """
    text = request.GET.get("q", "")
    kinds = tuple(kind for kind in request.GET.getlist("kind") if kind in DocumentKind.values)
    filters = Filters(kinds=kinds, service=request.GET.get("service", "")[:100], team=request.GET.get("team", "")[:100])
    found = search(text, user=request.user, filters=filters, page=_page_number(request.GET.get("page")))
    context = {"q": text, "filters": filters, "results": found, "kinds": DocumentKind.choices}
    context.update(filter_choices(found, filters))
    wants_partial = request.headers.get("HX-Request") and not request.headers.get("HX-History-Restore-Request")
    return render(request, "search/_update.html" if wants_partial else "search/results.html", context)


def suggestions(request):
    """/search/suggest/?q=…: the header box's type-ahead, a listbox fragment (services first; a service's
    line opens its on-call card). The box works without it: Enter then submits to /search/."""
    text = request.GET.get("q", "")[:MAX_QUERY_LENGTH]
    found = suggest(text, user=request.user)
    return render(request, "search/_suggestions.html", {"q": text, "suggestions": found})
