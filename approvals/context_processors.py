from django.db import connection
from django.utils.functional import SimpleLazyObject

from approvals.permissions import approvals_waiting_for
from core.compiled_sql import per_user_sql


def pending_approvals(request):
    """The count of approvals waiting for the user, for the navigation (one query, only when shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"pending_approvals_count": SimpleLazyObject(lambda: count_waiting_approvals(user))}


def count_waiting_approvals(user):
    """approvals_waiting_for(user), counted, with its SQL compiled once per user.

    The navigation shows this on every page, and building the queryset (visibility and permission
    subqueries) costs more than running it.
    """
    sql, params = _waiting_approvals_sql(user)
    if sql is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) waiting", params)
        return cursor.fetchone()[0]


@per_user_sql
def _waiting_approvals_sql(user):
    return approvals_waiting_for(user).order_by().values("pk")
