"""SQL compiled once per user, for querysets whose SQL depends on who asks but not on the data.

Building some permission querysets (guardian subqueries, the review-visibility rule) costs more Python
than the database spends running them. `per_user_sql` compiles such a queryset once per database vendor
and user, in each process; the database still evaluates the SQL afresh every time it runs, so what it
returns is always current.
"""

from functools import lru_cache, wraps

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connection


def per_user_sql(queryset_for):
    """Decorate `queryset_for(user) -> QuerySet`: the decorated function returns (sql, params) for `user`,
    or (None, ()) when the queryset can match nothing, compiled once per vendor, user and superuser flag.
    `queryset_for` must read nothing of the user but its id and whether it is a superuser."""

    @lru_cache(maxsize=1024)
    def compiled(vendor, user_pk, is_superuser):
        user = get_user_model()(pk=user_pk, is_superuser=is_superuser)
        try:
            sql, params = queryset_for(user).query.sql_with_params()
        except EmptyResultSet:
            return None, ()
        return sql, tuple(params)

    @wraps(queryset_for)
    def for_user(user):
        return compiled(connection.vendor, user.pk, user.is_superuser)

    return for_user
