from django.db import connection
from django.utils.functional import SimpleLazyObject

from approvals.models import EmergencyGrant
from approvals.permissions import approvals_waiting_for
from core.compiled_sql import per_user_sql


def pending_approvals(request):
    """The navigation's state for a signed-in user, read in one query when the page shows it: the count of
    approvals waiting for them, and whether an emergency grant awaits the committee (the banner)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    state = SimpleLazyObject(lambda: navigation_state(user))
    return {
        "pending_approvals_count": SimpleLazyObject(lambda: state["waiting"]),
        "unacknowledged_emergency_grants": SimpleLazyObject(
            lambda: (
                list(EmergencyGrant.objects.filter(acknowledged_at__isnull=True).select_related("user", "team"))
                if state["emergencies"]
                else []
            )
        ),
    }


def navigation_state(user):
    """{"waiting": approvals_waiting_for(user) counted, "emergencies": unacknowledged emergency grants}.

    The navigation shows this on every page, and building the queryset (visibility and permission
    subqueries) costs more than running it: its SQL is compiled once per user.
    """
    sql, params = _waiting_approvals_sql(user)
    emergencies = f"SELECT COUNT(*) FROM {EmergencyGrant._meta.db_table} WHERE acknowledged_at IS NULL"
    waiting = f"SELECT COUNT(*) FROM ({sql}) waiting" if sql is not None else "SELECT 0"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({waiting}), ({emergencies})", params if sql is not None else [])
        waiting_count, emergency_count = cursor.fetchone()
    return {"waiting": waiting_count, "emergencies": emergency_count}


@per_user_sql
def _waiting_approvals_sql(user):
    return approvals_waiting_for(user).order_by().values("pk")
