from django.utils.functional import SimpleLazyObject

from approvals.permissions import approvals_waiting_for


def pending_approvals(request):
    """The count of approvals waiting for the user, for the navigation (one query, only when shown)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"pending_approvals_count": SimpleLazyObject(lambda: approvals_waiting_for(user).count())}
