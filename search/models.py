"""The search index: one SearchDocument per searchable object, whatever its app.

The full-text structures live beside this table and are created by the migrations
for the database in use (search.schema describes the latest): external-content FTS5
tables under the porter stemmer kept by triggers (SQLite), or stored tsvector
columns in PostgreSQL's english configuration with GIN indexes (PostgreSQL). The
model itself stays plain so the ORM, bulk inserts and the admin work on both.
"""

from django.db import models
from django.urls import reverse


class DocumentKind(models.TextChoices):
    SERVICE = "service", "Service"
    SLA = "sla", "SLA"
    ESCALATION_MATRIX = "escalation_matrix", "Escalation matrix"
    REVIEW = "review", "Post-incident review"
    ACTION_ITEM = "action_item", "Action item"
    RELEASE = "release", "Release"
    TEAM = "team", "Team"
    JOURNEY = "journey", "Customer journey"


def slug_list(slugs):
    """The padded, space-separated form of the slug columns: " payments-api checkout " (filter: contains " x ")."""
    unique = sorted({slug for slug in slugs if slug})
    return f" {' '.join(unique)} " if unique else ""


class SearchDocument(models.Model):
    """What search knows of one object: its title and all its text, where it lives and who may see it."""

    kind = models.CharField(max_length=24, choices=DocumentKind)
    object_id = models.PositiveBigIntegerField()
    title = models.CharField(max_length=300)
    # Lower-case words of the title joined by single spaces: an exact-name match ("payments api") is one
    # indexed lookup, so a service's card comes first for its name however common the words are.
    title_key = models.CharField(max_length=300, db_index=True)
    body = models.TextField(blank=True, help_text="All the object's text, plain, for matching and snippets.")
    url = models.CharField(max_length=500)
    # Padded, space-separated slugs (" a b "): filters test `contains " slug "` on the bounded candidate
    # rows only (see backends), so they need no index of their own.
    service_slugs = models.CharField(max_length=2000, blank=True)
    team_slugs = models.CharField(max_length=2000, blank=True)
    # What the result list shows without another query: service and team names, status label.
    labels = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=32, blank=True, help_text="The object's own status, e.g. retired.")
    is_archived = models.BooleanField(
        default=False, help_text="Retired, cancelled or done: still searchable, shown as such."
    )
    # Visibility: a restricted document carries the key its app's visibility rule decides by (for a review
    # and its action items, the review's id); see search.registry.register_visibility_rule.
    visibility_key = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    is_restricted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(help_text="When the object last changed.")
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "object_id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_document_unique_object"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.title}"

    def get_absolute_url(self):
        return self.url

    @property
    def oncall_url(self):
        """A service's on-call card (a service document's slug list holds exactly its own slug)."""
        slug = self.service_slugs.strip()
        if self.kind != DocumentKind.SERVICE or not slug or " " in slug:
            return ""
        return reverse("oncall_card", args=[slug])

    @property
    def service_names(self):
        return self.labels.get("services", [])

    @property
    def team_names(self):
        return self.labels.get("teams", [])


class SearchTerm(models.Model):
    """A word that occurs (or once occurred) in the index: how a typed prefix becomes the words it can finish as.

    Both full-text indexes can match a prefix themselves, but only by merging the document lists of every
    word it could finish as before returning the first row (O(matches)); expanding "escal" here into
    "escalate OR escalation" keeps a prefix query as cheap as a word query. Words are only ever added:
    a word no document holds any more expands to nothing that matches, which is harmless.
    """

    term = models.CharField(max_length=64, primary_key=True)
    # A word of some title: the words a mistyped word is corrected to ("paymnts" → "payments"), by trigram
    # similarity (pg_trgm's GiST index on PostgreSQL, an FTS5 trigram table on SQLite: migration 0005).
    in_title = models.BooleanField(default=False)

    def __str__(self):
        return self.term
