"""The main menu arranged by what its reader mostly does: engineers, approvers, executives.

Everyone reaches every page from the one menu; only the order differs. The first links are the reader's
daily work (an engineer's services, reviews and releases; an approver's approvals and changes; an
executive's summary and scorecards) and the rest sit under "More". The role is worked out once per
sign-in and kept in the session, so the menu costs no query on the pages people open all day.
"""

from django.contrib.auth.signals import user_logged_in
from django.urls import reverse

from core.teams import teams_user_may_approve_for
from sla_registry.choices import TeamKind
from sla_registry.models import Team

SESSION_KEY = "navigation_role"
ENGINEER, APPROVER, EXECUTIVE = "engineer", "approver", "executive"

# (key, label, url name, the url names and namespaces that mark it current)
LINKS = {
    "services": ("Services", "sla_registry:service_list", ("service_list", "service_detail", "oncall_card")),
    "escalation": ("Escalation", "sla_registry:matrix_list", ("matrix_",)),
    "slas": ("SLAs", "sla_registry:sla_list", ("sla_",)),
    "reviews": ("Reviews", "reviews:review_list", ("reviews:",)),
    "releases": ("Releases", "releases:release_list", ("releases:",)),
    "approvals": ("My approvals", "approvals:my_approvals", ("my_approvals",)),
    "changes": ("Changes", "approvals:change_request_list", ("change_request", "my_requests")),
    "review_due": ("Review due", "sla_registry:review_due", ("review_due", "periodic_review")),
    "executive": ("Executive summary", "executive_summary", ("executive_summary",)),
    "teams": ("Teams and scorecards", "sla_registry:team_list", ("team_", "team_scorecard")),
    "journeys": ("Journeys", "sla_registry:journey_list", ("journey_",)),
    "taxonomy": ("Taxonomy", "sla_registry:taxonomy", ("taxonomy", "severity_", "category_")),
    "access_policy": ("Access policy", "sla_registry:access_policy", ("access_policy",)),
}
FIRST = {
    ENGINEER: ("services", "escalation", "slas", "reviews", "releases"),
    APPROVER: ("approvals", "changes", "slas", "escalation", "review_due"),
    EXECUTIVE: ("executive", "teams", "slas", "reviews"),
}


def navigation_role(user):
    """What `user` mostly does here: executive (leadership), approver (approves for a team, or sits on the
    SLA committee), or engineer."""
    if Team.objects.filter(kind=TeamKind.LEADERSHIP, group__user=user).exists():
        return EXECUTIVE
    if (
        teams_user_may_approve_for(user).exists()
        or Team.objects.filter(is_sla_committee=True, group__user=user).exists()
    ):
        return APPROVER
    return ENGINEER


def remember_role(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = navigation_role(user)


user_logged_in.connect(remember_role, dispatch_uid="insights.navigation.remember_role")


def _is_current(match, markers):
    if match is None:
        return False
    names = (match.url_name or "", f"{match.app_name}:" if match.app_name else "")
    return any(name.startswith(marker) for marker in markers for name in names if marker)


def main_menu(request):
    """Context for the menu: `menu_first` and `menu_more`, lists of (key, label, url, is_current)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = request.session.get(SESSION_KEY)
    if role not in FIRST:
        role = request.session[SESSION_KEY] = navigation_role(user)
    match = getattr(request, "resolver_match", None)
    entries = {
        key: (key, label, reverse(url_name), _is_current(match, markers))
        for key, (label, url_name, markers) in LINKS.items()
    }
    first = [entries[key] for key in FIRST[role]]
    return {
        "menu_role": role,
        "menu_first": first,
        "menu_more": [entry for key, entry in entries.items() if key not in FIRST[role]],
    }
