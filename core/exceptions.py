"""Errors any write path may raise, and how the pages and the API answer them (409, 403)."""

from django.core.exceptions import PermissionDenied


class InvalidTransition(Exception):
    """The object is not in a state that allows this step ("CR-0007 is applied; it cannot be withdrawn")."""


class NotAllowed(PermissionDenied):
    """The user may not take this step (not the author, no approver permission, own request)."""
