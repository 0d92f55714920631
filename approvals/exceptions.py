from django.core.exceptions import PermissionDenied


class InvalidTransition(Exception):
    """The request is not in a state that allows this step ("CR-0007 is applied; it cannot be withdrawn")."""


class NotAllowed(PermissionDenied):
    """The user may not take this step (not the author, no approver permission, own request)."""
