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
