"""The search resource of the REST API: the search page's ranking, as JSON."""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from search.backends import Filters, search
from search.models import DocumentKind


class SearchHitSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    services = serializers.CharField(help_text="Slugs of the services it concerns, space-separated.")
    teams = serializers.CharField()
    status = serializers.CharField()
    updated_at = serializers.DateTimeField()
    snippet_html = serializers.CharField(help_text="Escaped text with the matched words in <mark>.")


class PinnedServiceSerializer(serializers.Serializer):
    title = serializers.CharField()
    url = serializers.CharField()
    oncall_url = serializers.CharField(help_text="The service's on-call card.")


class SearchResultsSerializer(serializers.Serializer):
    query = serializers.CharField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    total = serializers.IntegerField()
    more = serializers.BooleanField(help_text="More matched than were ranked; narrow the query.")
    match = serializers.ChoiceField(
        choices=["all", "corrected", "partial", ""],
        help_text='How the results match: "all" words as typed, "corrected" (mistyped words taken for the nearest '
        'title words, see corrections), "partial" (no document holds every word: these hold matched_words of '
        'query_words), "" (nothing matched).',
    )
    corrections = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Typed word -> the words it was taken for.",
    )
    matched_words = serializers.IntegerField()
    query_words = serializers.IntegerField()
    services = PinnedServiceSerializer(many=True, help_text="The services whose name matches, pinned above.")
    results = SearchHitSerializer(many=True)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "q",
            str,
            required=True,
            description='Words (stemmed: "logins" finds "login"), "quoted phrases", -exclusions, OR. A mistyped word '
            "is corrected, and when no document holds every word those holding most of them are returned.",
        ),
        OpenApiParameter("kind", str, many=True, enum=DocumentKind.values),
        OpenApiParameter("service", str, description="A service slug."),
        OpenApiParameter("team", str, description="A team slug."),
        OpenApiParameter("page", int),
    ],
    responses=SearchResultsSerializer,
    examples=[
        OpenApiExample(
            "Who answers for checkout",
            value={
                "query": "checkout sev1",
                "page": 1,
                "pages": 1,
                "total": 1,
                "more": False,
                "match": "all",
                "corrections": {},
                "matched_words": 0,
                "query_words": 0,
                "services": [],
                "results": [
                    {
                        "kind": "sla",
                        "title": "SLA-0001 Payments Gateway for checkout",
                        "url": "/slas/SLA-0001/",
                        "services": "payments-gateway",
                        "teams": "checkout checkout-product payments",
                        "status": "active",
                        "updated_at": "2026-11-02T09:00:04Z",
                        "snippet_html": "Payments answers a <mark>SEV1</mark> from <mark>Checkout</mark> in 15 min",
                    }
                ],
            },
            response_only=True,
        )
    ],
)
@api_view(["GET"])
def search_api(request):
    """The portal's search, as the search page ranks it, restricted to what the caller may see."""
    text = request.query_params.get("q", "")
    kinds = tuple(kind for kind in request.query_params.getlist("kind") if kind in DocumentKind.values)
    filters = Filters(
        kinds=kinds,
        service=request.query_params.get("service", "")[:100],
        team=request.query_params.get("team", "")[:100],
    )
    page_text = request.query_params.get("page", "1")
    page = int(page_text) if page_text.isascii() and page_text.isdigit() and 0 < int(page_text) < 10_000 else 1
    found = search(text, user=request.user, filters=filters, page=page)
    body = {
        "query": text[:256],
        "page": found.page,
        "pages": found.pages,
        "total": found.total,
        "more": found.more,
        "match": found.match,
        "corrections": found.corrections,
        "matched_words": found.matched_words,
        "query_words": found.query_words,
        "services": [
            {"title": service.title, "url": service.url, "oncall_url": service.oncall_url} for service in found.services
        ],
        "results": [
            {
                "kind": hit.document.kind,
                "title": hit.document.title,
                "url": hit.document.url,
                "services": hit.document.service_slugs,
                "teams": hit.document.team_slugs,
                "status": hit.document.status,
                "updated_at": hit.document.updated_at,
                "snippet_html": hit.snippet,
            }
            for hit in found.hits
        ],
    }
    return Response(SearchResultsSerializer(body).data)
