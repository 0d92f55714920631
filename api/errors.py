"""One shape for every API error: {"detail": "…", "errors": {field: [messages]}}.

Domain errors raised by the actions map to HTTP statuses here, so viewsets call
actions without catching anything: a refused transition is 409, an actor who may
not do it 403, invalid data 400 with field-level messages.
"""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from api.parsers import too_large
from core.exceptions import InvalidTransition, NotAllowed


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


def _django_validation_detail(error):
    if hasattr(error, "error_dict"):
        return {field: [str(message) for message in messages] for field, messages in error.message_dict.items()}
    return {"non_field_errors": [str(message) for message in error.messages]}


def exception_handler(error, context):
    if isinstance(error, RequestDataTooBig):
        error = too_large()
    if isinstance(error, DjangoValidationError):
        errors = _django_validation_detail(error)
        summary = " ".join(message for messages in errors.values() for message in messages)
        return Response({"detail": summary, "errors": errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(error, InvalidTransition):
        error = Conflict(str(error))
    elif isinstance(error, NotAllowed):
        error = exceptions.PermissionDenied(str(error))
    elif isinstance(error, Http404) and str(error):
        error = exceptions.NotFound(str(error))
    response = drf_exception_handler(error, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        errors = response.data
        response.data = {"detail": "The request is not valid; see errors.", "errors": errors}
    elif response is not None and isinstance(response.data, list):
        response.data = {"detail": " ".join(str(item) for item in response.data), "errors": {}}
    return response
