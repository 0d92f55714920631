"""Every admin page of every registered model opens for a superuser (the fallback tool during an incident)."""

import pytest
from django.contrib import admin
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def populated(governed_sla, make_matrix, submit_acknowledge):
    make_matrix(governed_sla.sla.service)
    submit_acknowledge(governed_sla, 15)


def test_every_admin_changelist_and_change_page_opens(admin_client, populated):
    checked = 0
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert admin_client.get(reverse(f"{prefix}_changelist")).status_code == 200, prefix
        obj = model._default_manager.first()
        if obj is not None:
            assert admin_client.get(reverse(f"{prefix}_change", args=[obj.pk])).status_code == 200, prefix
            checked += 1
    assert checked >= 10


def test_the_governance_record_is_read_only_in_the_admin(admin_client, populated):
    from approvals.models import ChangeRequest
    from audit.models import AuditEvent

    change_request = ChangeRequest.objects.get()
    response = admin_client.post(
        reverse("admin:approvals_changerequest_change", args=[change_request.pk]), {"summary": "rewritten"}
    )
    assert response.status_code == 403
    change_request.refresh_from_db()
    assert change_request.summary == "Faster SEV1 acknowledgement"
    event = AuditEvent.objects.first()
    assert (
        admin_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_governed_documents_are_view_only_in_the_admin_even_for_a_superuser(admin_client, populated):
    from reviews.models import PostIncidentReview
    from sla_registry.models import EscalationMatrix, ServiceLevelAgreement

    for model in (ServiceLevelAgreement, EscalationMatrix, PostIncidentReview):
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert admin_client.get(reverse(f"{prefix}_add")).status_code == 403, prefix
        obj = model._default_manager.first()
        if obj is None:
            continue
        page = admin_client.get(reverse(f"{prefix}_change", args=[obj.pk]))
        assert page.status_code == 200 and b'name="_save"' not in page.content, prefix
        assert admin_client.post(reverse(f"{prefix}_change", args=[obj.pk]), {"title": "x"}).status_code == 403
        assert admin_client.post(reverse(f"{prefix}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
        assert model._default_manager.filter(pk=obj.pk).exists()


def test_a_service_edited_in_the_admin_is_saved_through_the_action_with_a_reason(admin_client, populated):
    from sla_registry.models import Service

    service = Service.objects.first()
    url = reverse("admin:sla_registry_service_change", args=[service.pk])
    response = admin_client.post(
        url,
        {
            "name": service.name,
            "slug": service.slug,
            "description": "Edited by an administrator",
            "owner_team": service.owner_team_id,
            "tier": service.tier,
            "dependencies": [service.pk],  # the action refuses a service depending on itself
        },
    )
    assert response.status_code == 200 and "cannot depend on itself" in response.content.decode()
    service.refresh_from_db()
    assert service.description != "Edited by an administrator"
    assert (
        admin_client.post(reverse("admin:sla_registry_service_delete", args=[service.pk]), {"post": "yes"}).status_code
        == 403
    )


def test_a_valid_admin_edit_is_recorded_with_its_user_and_reason(admin_client, admin_user, populated):
    from sla_registry.models import Service

    service = Service.objects.first()
    response = admin_client.post(
        reverse("admin:sla_registry_service_change", args=[service.pk]),
        {
            "name": service.name,
            "slug": service.slug,
            "description": "Edited by an administrator",
            "owner_team": service.owner_team_id,
            "tier": service.tier,
        },
    )
    assert response.status_code == 302
    latest = service.history.first()
    assert latest.description == "Edited by an administrator"
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "Edited in the admin")


def test_the_admin_neither_changes_team_rules_nor_grants_object_permissions(admin_client, make_team):
    from django.urls import NoReverseMatch

    from sla_registry.choices import TeamKind
    from sla_registry.models import Team

    committee = make_team("SLA Committee", is_sla_committee=True)
    payments = make_team("Payments")
    response = admin_client.post(
        reverse("admin:sla_registry_team_change", args=[payments.pk]),
        {
            "name": "Payments",
            "slug": "payments",
            "kind": TeamKind.LEADERSHIP,
            "is_sla_committee": "on",
            "pager_handle": "payments-oncall",
            "chat_channel": "#payments",
            "email": "payments@example.com",
            "primary_channel": payments.primary_channel,
            "fallback_channel": payments.fallback_channel,
            "time_zone": payments.time_zone,
            "working_days": payments.working_days,
            "working_day_starts": payments.working_day_starts,
            "working_day_ends": payments.working_day_ends,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    payments.refresh_from_db()
    assert (payments.kind, payments.is_sla_committee) == (TeamKind.ENGINEERING, False)
    assert list(Team.objects.filter(is_sla_committee=True)) == [committee]
    with pytest.raises(NoReverseMatch):  # guardian's object-permission pages are gone with its mixin
        reverse("admin:sla_registry_team_permissions", args=[committee.pk])
    assert admin_client.get(f"/admin/sla_registry/team/{committee.pk}/permissions/").status_code in {302, 404}


def test_nobody_joins_the_committee_through_the_user_admin(admin_client, admin_user, make_team):
    from sla_registry.models import Team

    committee = make_team("SLA Committee", is_sla_committee=True)
    url = reverse("admin:auth_user_change", args=[admin_user.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "groups"}
    data.update(
        {
            "groups": [committee.group_id],
            "user_permissions": [],
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "09:00:00",
        }
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "part of the access policy" in response.content.decode()
    assert not Team.objects.get(pk=committee.pk).group.user_set.filter(pk=admin_user.pk).exists()
