"""The change-request lifecycle's errors: the shared ones of core, named where the lifecycle raises them."""

from core.exceptions import InvalidTransition, NotAllowed

__all__ = ["InvalidTransition", "NotAllowed", "RevisedMeanwhile"]


class RevisedMeanwhile(InvalidTransition):
    """A decision on a revision that is no longer the current one: the request was revised (or rebased) since the
    approver read it. Nothing is recorded; the approver reads what changes now and decides on that."""
