from functools import lru_cache

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.utils.functional import SimpleLazyObject

from approvals.permissions import approvals_waiting_for


def pending_approvals(request):
    """The count of approvals waiting for the user, for the navigation (one query, only when shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"pending_approvals_count": SimpleLazyObject(lambda: count_waiting_approvals(user))}


def count_waiting_approvals(user):
    """approvals_waiting_for(user), counted, with its SQL compiled once per user.

    The navigation shows this on every page. Building the queryset (visibility and
    permission subqueries) costs more than running it, and its SQL depends only on
    who the user is, not on the data, so it is compiled once per user and process.
    """
    sql, params = _waiting_approvals_sql(connection.vendor, user.pk, user.is_superuser)
    if sql is None:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) waiting", params)
        return cursor.fetchone()[0]


@lru_cache(maxsize=1024)
def _waiting_approvals_sql(vendor, user_pk, is_superuser):
    user = get_user_model()(pk=user_pk, is_superuser=is_superuser)
    try:
        return approvals_waiting_for(user).order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:
        return None, ()
