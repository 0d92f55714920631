"""Governed documents over the API: read-only, versioned, readable as of any moment.

`GovernedDocumentViewSet` gives every governed kind the same resources:

    GET  /api/v1/<kind>/                      the list (filters, ordering, pages)
    GET  /api/v1/<kind>/<ref>/                the live document: its snapshot and current version
    GET  /api/v1/<kind>/<ref>/?at=<moment>    the version in force at that moment
    GET  /api/v1/<kind>/<ref>/versions/       every version, newest first
    GET  /api/v1/<kind>/<ref>/versions/<n>/   one version's snapshot
    GET  /api/v1/<kind>/<ref>/diff/?from=1&to=2   what changed, in words and field by field

Writes answer 405 and point to change requests: nothing here changes a document.
The representation is the kind's own snapshot (the JSON versions hold), so the
API, the pages and the versions read the same document.
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed, ValidationError
from rest_framework.response import Response

from approvals.actions import latest_version, version_in_force
from approvals.diff import field_differences
from approvals.models import DocumentVersion
from approvals.registry import get_kind
from core.moments import parse_moment

MAX_VERSION_NUMBER = 2**31


class VersionSummarySerializer(serializers.ModelSerializer):
    change_request = serializers.SerializerMethodField()

    class Meta:
        model = DocumentVersion
        fields = ["number", "effective_at", "recorded_at", "content_hash", "change_request"]

    def get_change_request(self, version) -> str | None:
        return version.change_request.reference if version.change_request_id else None


class VersionSerializer(VersionSummarySerializer):
    class Meta(VersionSummarySerializer.Meta):
        fields = [*VersionSummarySerializer.Meta.fields, "snapshot"]


class GovernedDocumentSerializer(serializers.Serializer):
    """A governed document as of now or as of a moment: its reference, version and whole snapshot."""

    reference = serializers.CharField()
    kind = serializers.CharField()
    url = serializers.CharField(allow_null=True, help_text="The document's page in the portal.")
    as_of = serializers.DateTimeField(allow_null=True, help_text="Set when read with ?at=.")
    version = VersionSummarySerializer(allow_null=True)
    unapproved_edit = serializers.BooleanField(
        help_text="The live document differs from its latest version (edited outside a change request)."
    )
    document = serializers.JSONField(help_text="The document's snapshot: the JSON its versions hold.")


class DiffSerializer(serializers.Serializer):
    reference = serializers.CharField()
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    changes = serializers.ListField(child=serializers.CharField(), help_text="What changed, in words.")
    fields = serializers.ListField(child=serializers.DictField(), help_text="Field by field: path, old, new.")


AT_PARAMETER = OpenApiParameter(
    "at",
    OpenApiTypes.DATETIME,
    description="Read the version in force at this moment (ISO 8601; a bare date means midnight).",
)


def governed_document_examples(*, reference, url, kind, document, earlier, versions, changes, fields):
    """Examples of one governed kind's shared resources, all told from one realistic document.

    `versions` is its history, newest first, in VersionSummarySerializer's shape: the newest holds
    `document`, the one before it holds `document` with the keys in `earlier`; `changes` and
    `fields` are the diff between those two, as the diff resource words it.
    """
    latest, previous = versions[0], versions[1]
    earlier = {**document, **earlier}
    read = {"reference": reference, "kind": kind, "url": url, "unapproved_edit": False}
    return extend_schema_view(
        retrieve=extend_schema(
            examples=[
                OpenApiExample(
                    "Now",
                    summary=f"{reference} as it is now",
                    value={**read, "as_of": None, "version": latest, "document": document},
                    response_only=True,
                ),
                OpenApiExample(
                    "At a moment",
                    summary=f"{reference} as it was at {previous['effective_at']} (?at=)",
                    value={
                        **read,
                        "as_of": previous["effective_at"],
                        "version": previous,
                        "document": earlier,
                    },
                    response_only=True,
                ),
            ]
        ),
        versions=extend_schema(
            examples=[
                OpenApiExample(
                    "Versions", summary=f"{reference}'s versions, newest first", value=latest, response_only=True
                )
            ]
        ),
        version=extend_schema(
            examples=[
                OpenApiExample(
                    "Version",
                    summary=f"{reference} version {latest['number']}",
                    value={**latest, "snapshot": document},
                    response_only=True,
                )
            ]
        ),
        diff=extend_schema(
            examples=[
                OpenApiExample(
                    "Diff",
                    summary=f"{reference} version {previous['number']} → {latest['number']}",
                    value={
                        "reference": reference,
                        "from_version": previous["number"],
                        "to_version": latest["number"],
                        "changes": changes,
                        "fields": fields,
                    },
                    response_only=True,
                )
            ]
        ),
    )


class GovernedDocumentViewSet(viewsets.ReadOnlyModelViewSet):
    """Set `kind_key`; the list serializer and queryset are the app's, the rest is shared."""

    kind_key = None
    lookup_field = "reference"
    lookup_value_regex = r"[A-Za-z]+-\d{1,10}"

    @property
    def kind(self):
        return get_kind(self.kind_key)

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise MethodNotAllowed(
            request.method,
            detail=(
                f"{self.kind.label} documents are governed and cannot be written directly. Propose a change: "
                f'POST /api/v1/change-requests/ with {{"document_kind": "{self.kind.key}", …}}, then submit it '
                "for approval."
            ),
        )

    def get_object(self):
        reference = self.kwargs[self.lookup_field]
        pk = self.kind.document_id_from_reference(reference)
        if pk is None:
            raise Http404(f"“{reference}” is not a {self.kind.label} reference.")
        document = self.get_queryset().filter(pk=pk).first()
        if document is None:
            raise Http404(f"No {self.kind.label} {reference.upper()}.")
        return document

    def _versions(self, document):
        return DocumentVersion.objects.of(self.kind.key, document.pk).select_related("change_request")

    def _version(self, document, number):
        version = self._versions(document).filter(number=number).first() if 1 <= number < MAX_VERSION_NUMBER else None
        if version is None:
            raise Http404(f"{document.reference} has no version {number}.")
        return version

    @extend_schema(parameters=[AT_PARAMETER], responses=GovernedDocumentSerializer)
    def retrieve(self, request, *args, **kwargs):
        """The live document with its latest version, or with ?at= the version in force at that moment."""
        document = self.get_object()
        kind = self.kind
        at_text = request.query_params.get("at", "").strip()
        body = {
            "reference": kind.reference_of(document.pk),
            "kind": kind.key,
            "url": kind.document_url(document.pk),
            "as_of": None,
            "unapproved_edit": False,
        }
        if at_text:
            moment = parse_moment(at_text)
            if moment is None:
                raise ValidationError({"at": [f"“{at_text[:60]}” is not a date and time such as 2026-10-01T09:00Z."]})
            version = version_in_force(kind.key, document.pk, moment)
            if version is None:
                raise Http404(f"{body['reference']} had no version in force at {moment.isoformat()}.")
            body.update(as_of=moment, version=version, document=version.snapshot)
        else:
            snapshot = kind.snapshot(document)
            version = latest_version(kind.key, document.pk)
            body.update(
                version=version,
                document=snapshot,
                unapproved_edit=version is not None and not version.holds(snapshot),
            )
        return Response(GovernedDocumentSerializer(body).data)

    @extend_schema(responses=VersionSummarySerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request, *args, **kwargs):
        """Every version of the document, newest first, with the change request that made each one."""
        document = self.get_object()
        versions = self._versions(document).defer("snapshot").order_by("-number")
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(VersionSummarySerializer(page, many=True).data)

    @extend_schema(responses=VersionSerializer)
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>\d{1,10})", url_name="version")
    def version(self, request, number, *args, **kwargs):
        """One version of the document: when it took effect and the whole snapshot it holds."""
        document = self.get_object()
        return Response(VersionSerializer(self._version(document, int(number))).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True, description="The older version's number."),
            OpenApiParameter("to", int, required=True, description="The newer version's number."),
        ],
        responses=DiffSerializer,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, *args, **kwargs):
        """What changed between two versions of the document, in words and field by field."""
        document = self.get_object()
        numbers = {}
        for side in ("from", "to"):
            text = request.query_params.get(side, "").strip()
            if not (text.isascii() and text.isdigit()):
                raise ValidationError({side: [f"Give the version number to compare {side}, e.g. ?from=1&to=2."]})
            numbers[side] = int(text)
        old = self._version(document, numbers["from"]).snapshot
        new = self._version(document, numbers["to"]).snapshot
        body = {
            "reference": document.reference,
            "from_version": numbers["from"],
            "to_version": numbers["to"],
            "changes": self.kind.describe(old, new),
            "fields": [
                {"path": difference.path, "old": difference.old, "new": difference.new}
                for difference in field_differences(old, new, self.kind.child_keys)
            ],
        }
        return Response(DiffSerializer(body).data)
