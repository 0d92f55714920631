"""The webhook pages: the list, a new webhook (its secret shown once), and a webhook's delivery log."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from notifications import actions
from notifications.forms import WebhookSubscriptionForm
from notifications.models import WebhookDelivery
from notifications.permissions import (
    access_subscription,
    manageable_subscriptions,
    may_manage_global_webhooks,
    may_manage_webhooks,
    webhook_teams_for,
)

PAGE_SIZE = 25


def _require_any(user):
    if not may_manage_webhooks(user):
        raise PermissionDenied("Webhooks are managed by a team's approvers and by the SLA committee.")


def webhook_list(request):
    _require_any(request.user)
    subscriptions = manageable_subscriptions(request.user).annotate(
        pending_count=Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.PENDING))
    )
    page = Paginator(subscriptions.order_by("-active", "team__name", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/webhook_list.html",
        {"subscriptions": page.object_list, "page_obj": page},
    )


def webhook_create(request):
    _require_any(request.user)
    may_be_global = may_manage_global_webhooks(request.user)
    form = WebhookSubscriptionForm(
        request.POST or None, teams=webhook_teams_for(request.user), may_be_global=may_be_global
    )
    if request.method == "POST" and form.is_valid():
        try:
            subscription = actions.create_subscription(
                form.cleaned_data["team"],
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                acting_user=request.user,
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, field_messages in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, field_messages)
            else:
                form.add_error(None, error.messages)
        else:
            # Answered here, not redirected: the secret is shown on this page only, never stored in a message.
            return render(request, "notifications/webhook_created.html", {"subscription": subscription})
    return render(request, "notifications/webhook_form.html", {"form": form})


def webhook_detail(request, pk):
    subscription = access_subscription(request.user, pk)
    deliveries = subscription.deliveries.order_by("-pk")
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/webhook_detail.html",
        {"subscription": subscription, "deliveries": page.object_list, "page_obj": page},
    )


def _act(request, action, success_message):
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success_message)


@require_POST
def webhook_test(request, pk):
    subscription = access_subscription(request.user, pk)
    _act(
        request,
        lambda: actions.send_test_event(subscription, acting_user=request.user),
        "A test event is queued; it appears in the log below once the worker has sent it.",
    )
    return redirect(subscription)


@require_POST
def webhook_deactivate(request, pk):
    subscription = access_subscription(request.user, pk)
    _act(
        request,
        lambda: actions.deactivate_subscription(subscription, acting_user=request.user),
        f"Deactivated: nothing more is sent to {subscription.url}.",
    )
    return redirect(subscription)


@require_POST
def webhook_rotate_secret(request, pk):
    subscription = access_subscription(request.user, pk)
    try:
        subscription = actions.rotate_secret(subscription, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(subscription)
    # Answered here, like creation: the new secret is shown on this page only.
    return render(request, "notifications/webhook_created.html", {"subscription": subscription, "rotated": True})


@require_POST
def delivery_retry(request, pk, delivery_pk):
    subscription = access_subscription(request.user, pk)
    delivery = get_object_or_404(subscription.deliveries, pk=delivery_pk)
    _act(
        request,
        lambda: actions.retry_delivery(delivery, acting_user=request.user),
        f"Delivery {delivery.pk} will be retried now (after any earlier one still waiting).",
    )
    return redirect(subscription)
