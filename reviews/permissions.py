"""Who may see a post-incident review: the one place visibility is decided.

An unrestricted review is visible to every signed-in user. A restricted one
(security incidents) only to the teams it names, the SLA committee and
leadership: their groups hold the `view_restricted_review` object permission
(django-guardian), kept in step by `grant_restricted_access` on every write of a
review (a draft saved, a change request applied). Its authors keep seeing what
they wrote. Everyone else gets a 404 and never sees it listed: every list, page,
search, export and API reads through `visible_reviews`, and change requests about
a hidden review are hidden through the review adapter's `filter_visible`.
"""

from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, CharField, Exists, OuterRef, Q
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.http import Http404
from django.shortcuts import get_object_or_404
from guardian.models import GroupObjectPermission
from guardian.shortcuts import assign_perm

from audit.log import record_event
from core.compiled_sql import per_user_sql
from core.teams import teams_user_may_approve_for
from reviews.models import ActionItem, PostIncidentReview
from sla_registry.choices import TeamKind
from sla_registry.models import Team

VIEW_RESTRICTED = "view_restricted_review"


def teams_that_see(review):
    """The teams allowed to see a restricted review."""
    return Team.objects.filter(
        Q(pk__in=review.restricted_to.values("pk")) | Q(is_sla_committee=True) | Q(kind=TeamKind.LEADERSHIP)
    ).select_related("group")


def grant_restricted_access(review):
    """Make the object permissions match the review's restriction (called by every write in reviews.actions).

    When the set of teams granted access changes, a `review.access_granted` event records the teams before
    and after, by the user the write is stamped with; rewriting the same grants records nothing.
    """
    grants = GroupObjectPermission.objects.filter(
        object_pk=str(review.pk),
        content_type=ContentType.objects.get_for_model(PostIncidentReview),
        permission__codename=VIEW_RESTRICTED,
    )
    granted_before = set(grants.values_list("group_id", flat=True))
    grants.delete()
    teams = list(teams_that_see(review)) if review.is_restricted else []
    if teams:
        assign_perm(VIEW_RESTRICTED, Group.objects.filter(pk__in=[team.group_id for team in teams]), review)
    if granted_before != {team.group_id for team in teams}:
        record_event(
            "review.access_granted",
            review,
            # reviews.actions stamps the review with its acting user before every write that gets here.
            actor=getattr(review, "_history_user", None),
            payload={
                "restricted": review.is_restricted,
                "teams": sorted(team.slug for team in teams),
                "previous_teams": sorted(
                    Team.objects.filter(group_id__in=granted_before).values_list("slug", flat=True)
                ),
            },
        )


def visible_reviews(user, queryset=None):
    """The reviews `user` may see, as a queryset to filter further: use it for every list, export and feed."""
    queryset = PostIncidentReview.objects.all() if queryset is None else queryset
    if not user.is_authenticated:
        return queryset.none()
    if user.is_superuser:
        return queryset
    granted = GroupObjectPermission.objects.filter(
        group__user=user, permission__codename=VIEW_RESTRICTED, permission__content_type__app_label="reviews"
    ).values(review_pk=Cast("object_pk", BigIntegerField()))
    authored = PostIncidentReview.authors.through.objects.filter(user=user).values("postincidentreview_id")
    # The committee and leadership see every restricted review, including those restricted before their team
    # existed (their group's permissions are granted when a review is saved); in the same query, as a subquery.
    oversees = Exists(Team.objects.filter(Q(is_sla_committee=True) | Q(kind=TeamKind.LEADERSHIP), group__user=user))
    return queryset.filter(Q(is_restricted=False) | Q(pk__in=granted) | Q(pk__in=authored) | Q(oversees))


@per_user_sql
def restricted_reviews_sql(user):
    """(sql, params) of the restricted reviews `user` may see, compiled once per user; (None, ()) if none.

    For search and the on-call card, which filter by this rule on every request: building the
    visible_reviews queryset costs several milliseconds of Python, more than running it.
    """
    # No ORDER BY (the model's default ordering): an IN subquery needs none, and sorting costs planning.
    return visible_reviews(user, PostIncidentReview.objects.filter(is_restricted=True).order_by()).values("pk")


def visible_reviews_condition(user, path=""):
    """visible_reviews as a condition on PostIncidentReview (through `path`, such as "review__"), for
    querysets of other models; its restricted-review SQL is compiled once per user."""
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    allowed = Q(**{f"{path}is_restricted": False})
    sql, params = restricted_reviews_sql(user)
    if sql is not None:
        allowed |= Q(**{f"{path}pk__in": RawSQL(sql, params)})
    return allowed


def hidden_reviews(user):
    """The restricted reviews `user` may not see (for hiding what refers to them, such as change requests)."""
    return PostIncidentReview.objects.filter(is_restricted=True).exclude(pk__in=visible_reviews(user).values("pk"))


def hidden_review_ids(user):
    """The ids, as text (as audit events store them), of the restricted reviews `user` may not see."""
    return hidden_reviews(user).values(text_pk=Cast("pk", CharField()))


def access_review(user, reference, queryset=None):
    """The review named by `reference` (PIR-0007) if `user` may see it; 404 otherwise, never 403."""
    pk = PostIncidentReview.pk_from_reference(reference)
    if pk is None:
        raise Http404(f"“{reference}” is not a review reference.")
    return get_object_or_404(visible_reviews(user, queryset), pk=pk)


def action_item_updaters_condition(user):
    """A condition on ActionItem: the items `user` may mark done (or otherwise update).

    Their owner team's members, the review's authors and the SLA committee (members and approvers);
    superusers too. One rule for the pages, the API and the action that writes.
    """
    if not user.is_authenticated:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    committee = Team.objects.filter(is_sla_committee=True).filter(
        Q(group__user=user) | Q(pk__in=teams_user_may_approve_for(user))
    )
    return Q(owner_team__group__user=user) | Q(review__authors=user) | Q(Exists(committee))


def may_update_action_item(user, item):
    return ActionItem.objects.filter(action_item_updaters_condition(user), pk=item.pk).exists()


def with_may_update(items, user):
    """`items` annotated with may_update (whether `user` may mark each done), in the same query."""
    allowed = ActionItem.objects.filter(action_item_updaters_condition(user), pk=OuterRef("pk"))
    return items.annotate(may_update=Exists(allowed))


def review_restriction(review, *, about, link="", proposed=None):
    """The notifications Restriction for an outbound message whose source is `review` (None when nobody is
    kept from reading it): the one rule, as the pages apply it, handed to every email and webhook.

    Readers are decided as the pages decide: a team that sees the review (teams_that_see: the named teams,
    the committee and leadership), a person who may open it (visible_reviews). A review not restricted yet
    that `proposed` (a change request's proposed document) would restrict is read as it would be: by the
    teams the proposal names, the committee, leadership and its authors; so a proposal to restrict a review
    never goes out in full to everyone. Everyone else is told only that `about` ("An overdue action item")
    of a restricted review waits in the portal, with its link: no title or any other text of the review.
    """
    from notifications.outbox import Restriction

    restricted_now = review is not None and review.is_restricted
    proposed_restricted = bool((proposed or {}).get("is_restricted"))
    if not (restricted_now or proposed_restricted):
        return None
    if restricted_now:
        readers = set(teams_that_see(review).values_list("pk", flat=True))

        def may_read_user(user):
            return visible_reviews(user).filter(pk=review.pk).exists()

    else:
        named = Q(slug__in=proposed.get("restricted_to") or [])
        readers = set(
            Team.objects.filter(named | Q(is_sla_committee=True) | Q(kind=TeamKind.LEADERSHIP)).values_list(
                "pk", flat=True
            )
        )
        authors = set(review.authors.values_list("pk", flat=True)) if review is not None else set()

        def may_read_user(user):
            if user.is_superuser or user.pk in authors:
                return True
            return Team.objects.filter(pk__in=readers, group__user=user).exists()

    def may_read_team(team):  # a team's address and its webhooks: its members, who all see it or not
        return team.pk in readers

    words = f"{about} of a restricted review needs you: open the portal"
    reference = {"review": review.reference} if review is not None else {}
    return Restriction(
        may_read_team=may_read_team,
        may_read_user=may_read_user,
        subject=words,
        body=f"{words} to read it.\n\n{link}".strip(),
        data=reference,
    )
