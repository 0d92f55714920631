"""Token pages of the API: revoking one of your own tokens (made on the profile page)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from api.models import ApiToken
from api.tokens import revoke_api_token


@require_POST
def revoke_token(request, token_key):
    token = get_object_or_404(ApiToken, user=request.user, token_key=token_key)
    revoke_api_token(token, acting_user=request.user)
    messages.success(request, f"Token “{token.name}” is revoked: requests carrying it are refused from now on.")
    return redirect("profile")
