"""What the portal's figures count: published reviews of real incidents.

A review's times and findings are facts once the owners of the affected services and
the SLA committee have published it; a draft (or a review in review for publication)
may be half written, wrong about its times, or junk. So the executive summary, the
home page's headline, team scorecards, the incident metrics and the CSV exports count
published reviews only, and drills never. Drafts and reviews in review for
publication are listed apart, as "awaiting review", and never move a figure.

One vocabulary on every page:

- "incidents that breached an SLA": incidents that missed at least one response target;
- "response targets missed": every target missed, so one incident can miss several
  (acknowledge and restore, or the targets of two SLAs).
"""

from dataclasses import dataclass, field

from core.moments import quarters_offered
from reviews.choices import ReviewStatus
from reviews.permissions import visible_reviews

INCIDENTS_BREACHED = "incidents that breached an SLA"
TARGETS_MISSED = "response targets missed"


def counted(reviews):
    """The reviews a figure counts: published, real incidents (a queryset of reviews)."""
    return reviews.filter(status=ReviewStatus.PUBLISHED, is_drill=False)


def is_counted(review):
    return review.status == ReviewStatus.PUBLISHED and not review.is_drill


@dataclass
class Incidents:
    """A period's real incidents: those its figures count, and those whose review is not published yet."""

    counted: list = field(default_factory=list)
    awaiting: list = field(default_factory=list)  # drafts and reviews in review for publication

    @property
    def breached(self):
        """The counted incidents that breached an SLA (reviews with figures attached)."""
        return [review for review in self.counted if review.counted_breaches]

    @property
    def targets_missed(self):
        return sum(len(review.counted_breaches) for review in self.counted)


def split_incidents(reviews):
    """Incidents of real incidents read in one query (any status; drills are dropped): counted, and awaiting review."""
    incidents = Incidents()
    for review in reviews:
        if review.is_drill:
            continue
        (incidents.counted if is_counted(review) else incidents.awaiting).append(review)
    return incidents


def incident_months(reviews):
    """The months (aware datetimes, current time zone) in which counted incidents of `reviews` started (one query).

    core.moments.quarters_offered turns them into the quarters a page offers.
    """
    return counted(reviews).order_by().datetimes("started_at", "month")


def quarters_with_incidents(user, chosen=None, reviews=None):
    """The quarters a page offers to choose from: those with counted incidents among `reviews` (every review by
    default) that `user` may see, the current one and `chosen` (core.moments.quarters_offered); one query."""
    return quarters_offered(incident_months(visible_reviews(user, reviews)), chosen)
