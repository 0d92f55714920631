"""The change-request lifecycle's errors: the shared ones of core, named where the lifecycle raises them."""

from core.exceptions import InvalidTransition, NotAllowed

__all__ = ["InvalidTransition", "NotAllowed"]
