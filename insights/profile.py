"""The profile page: who you are, your teams, and your API tokens."""

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone

from api.models import ApiToken
from api.tokens import LIFETIME_CHOICES, create_api_token
from sla_registry.models import Team


def profile(request):
    """Who you are, your teams, and your API tokens; POST makes a token and shows it this once."""
    user = request.user
    new_token = None
    errors = {}
    if request.method == "POST":
        days_text = request.POST.get("days", "")
        try:
            token, text = create_api_token(
                name=request.POST.get("name", ""),
                days=int(days_text) if days_text.isdigit() else 0,
                acting_user=user,
            )
        except ValidationError as error:
            errors = error.message_dict
        else:
            new_token = {"token": token, "text": text}
    return render(
        request,
        "insights/profile.html",
        {
            "teams": Team.objects.filter(group__user=user).order_by("name"),
            "tokens": ApiToken.objects.filter(user=user),
            "lifetimes": LIFETIME_CHOICES,
            "new_token": new_token,
            "errors": errors,
            "form_name": request.POST.get("name", "") if errors else "",
            "now": timezone.now(),
        },
        status=400 if errors else 200,
    )
