"""Who writes an SLA's measurements, and how a stored period is replaced: the attack on the demo, replayed.

An engineer of Payments posted good 0 of 1,000,000 for SLA-0002, whose provider is Checkout, and the API
answered 201 {"replaced": 1}: the day's real figure was overwritten in silence. Now only the provider
team's members (and superusers) record an SLA's measurements, through the API (session or token) and the
import command alike (sla_registry.permissions.may_record_measurements), and a stored period is replaced
only when the writer asks for it, audited with the figures it replaced.
"""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from rest_framework.test import APIClient

from api.tokens import create_api_token
from audit.models import AuditEvent
from core.exceptions import NotAllowed
from sla_registry import measurements as measurements_module
from sla_registry.choices import TeamKind
from sla_registry.measurements import MeasurementsRejected, numbered, record_measurements
from sla_registry.models import Measurement, Objective
from sla_registry.permissions import may_record_measurements

pytestmark = pytest.mark.django_db

INDICATOR = "Checkout requests answered without error"
DAY = {"indicator": INDICATOR, "period_start": "2026-11-01T00:00:00Z", "period_end": "2026-11-02T00:00:00Z"}
REAL = {**DAY, "good": 999_530, "total": 1_000_000}
ZERO = {**DAY, "good": 0, "total": 1_000_000}
HEADER = "sla,indicator,period_start,period_end,good,total"


@pytest.fixture
def world(make_team, make_service, make_sla, make_user):
    """Checkout provides an SLA to Payments; one real day is stored, as Checkout's monitoring sent it."""
    checkout, payments = make_team("Checkout"), make_team("Payments")
    committee = make_team("SLA Committee", is_sla_committee=True)
    leadership = make_team("Leadership", kind=TeamKind.LEADERSHIP)
    sla = make_sla(
        "Checkout for Payments",
        service=make_service("Checkout API", owner_team=checkout),
        provider_team=checkout,
        consumer_teams=[payments],
        objectives=[Objective(indicator=INDICATOR, target=Decimal("99.9"), unit="%")],
    )
    people = {
        "checkout.engineer": make_user("checkout.engineer", teams=[checkout]),
        "checkout.approver": make_user("checkout.approver", approver_for=[checkout]),
        "payments.engineer": make_user("payments.engineer", teams=[payments]),
        "payments.approver": make_user("payments.approver", approver_for=[payments]),
        "committee.member": make_user("committee.member", teams=[committee], approver_for=[committee]),
        "leadership.member": make_user("leadership.member", teams=[leadership]),
        "nobody": make_user("nobody"),
        "root": get_user_model().objects.create_superuser("root", "root@example.com", "unused-password-1"),
    }
    record_measurements(
        numbered([{**REAL, "sla": sla.reference}]),
        source="api:checkout.engineer",
        acting_user=people["checkout.engineer"],
    )
    return sla, people


def url(sla):
    return f"/api/v1/slas/{sla.reference}/measurements/"


def as_user(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def with_token(user):
    _, text = create_api_token(name="monitoring", days=30, acting_user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {text}")
    return client


def stored():
    return list(Measurement.objects.values_list("good", "total", "source"))


def replacements():
    return AuditEvent.objects.filter(action="measurements.replaced")


# The rule, in one function ----------------------------------------------------------


def test_only_the_provider_teams_members_and_superusers_may_record(world):
    sla, people = world
    allowed = {name for name, user in people.items() if may_record_measurements(user, sla)}
    assert allowed == {"checkout.engineer", "checkout.approver", "root"}


# The API ----------------------------------------------------------------------------


def test_the_attack_another_teams_engineer_is_refused_403_and_the_day_is_untouched(world):
    sla, people = world
    attacker = as_user(people["payments.engineer"])
    for body in (
        {"measurements": [ZERO]},
        {"measurements": [ZERO], "replace": True},
        {"measurements": [{**DAY, "period_start": "2026-11-03", "good": 0, "total": 1}]},  # a new day
        {"measurements": [{**ZERO, "indicator": "Made up", "good": 5, "total": 1}]},  # rows with errors
        {},  # no body at all
    ):
        answer = attacker.post(url(sla), body, format="json")
        assert answer.status_code == 403, (body, answer.json())
        assert "Only members of the provider team (Checkout)" in answer.json()["detail"]
    assert stored() == [(999_530, 1_000_000, "api:checkout.engineer")]
    assert not replacements().exists()


def test_every_role_through_the_api(world):
    """Anonymous 401; the provider's members and superusers 201; every other team (the SLA's consumer, its
    approver, the committee, leadership) and a user of no team 403. Each in a savepoint rolled back."""
    sla, people = world
    expected = {
        None: 401,
        "checkout.engineer": 201,
        "checkout.approver": 201,
        "root": 201,
        "payments.engineer": 403,
        "payments.approver": 403,
        "committee.member": 403,
        "leadership.member": 403,
        "nobody": 403,
    }
    answers = {}
    for name in expected:
        with transaction.atomic():
            answer = as_user(people.get(name)).post(url(sla), {"measurements": [ZERO], "replace": True}, format="json")
            answers[name] = answer.status_code
            transaction.set_rollback(True)
    assert answers == expected
    assert stored() == [(999_530, 1_000_000, "api:checkout.engineer")]


def test_an_api_token_carries_its_owners_rule(world):
    sla, people = world
    refused = with_token(people["payments.engineer"]).post(
        url(sla), {"measurements": [ZERO], "replace": True}, format="json"
    )
    assert refused.status_code == 403
    assert stored() == [(999_530, 1_000_000, "api:checkout.engineer")]

    new_day = {**DAY, "period_start": "2026-11-02", "period_end": "2026-11-03", "good": 10, "total": 10}
    answer = with_token(people["checkout.engineer"]).post(url(sla), {"measurements": [new_day]}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json() == {"created": 1, "replaced": 0, "objectives": 1, "replaced_periods": []}


def test_a_superuser_outside_the_team_may_record(world):
    sla, people = world
    new_day = {**DAY, "period_start": "2026-11-02", "period_end": "2026-11-03", "good": 10, "total": 10}
    answer = as_user(people["root"]).post(url(sla), {"measurements": [new_day]}, format="json")
    assert answer.status_code == 201
    assert Measurement.objects.count() == 2


def test_a_stored_day_sent_again_is_refused_naming_it_unless_replace_is_asked(world):
    sla, people = world
    provider = as_user(people["checkout.engineer"])
    corrected = {**REAL, "good": 999_100}

    refused = provider.post(url(sla), {"measurements": [corrected]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"]["measurements"] == [
        f"measurements[0]: {sla.reference} “{INDICATOR}” already has a measurement for "
        "2026-11-01 00:00 to 2026-11-02 00:00 UTC; send it with replace to replace the stored figures"
    ]
    # replace: false is the same as saying nothing.
    assert provider.post(url(sla), {"measurements": [corrected], "replace": False}, format="json").status_code == 400
    assert stored() == [(999_530, 1_000_000, "api:checkout.engineer")]
    assert not replacements().exists()


def test_a_replacement_asked_for_says_what_it_replaced_and_is_audited(world):
    sla, people = world
    new_day = {**DAY, "period_start": "2026-11-02", "period_end": "2026-11-03", "good": 10, "total": 10}
    answer = as_user(people["checkout.approver"]).post(
        url(sla), {"measurements": [{**REAL, "good": 999_100}, new_day], "replace": True}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json() == {
        "created": 1,
        "replaced": 1,
        "objectives": 1,
        "replaced_periods": [
            {
                "indicator": INDICATOR,
                "period_start": "2026-11-01T00:00:00Z",
                "period_end": "2026-11-02T00:00:00Z",
                "previous": {"good": 999_530, "total": 1_000_000, "source": "api:checkout.engineer"},
                "good": 999_100,
                "total": 1_000_000,
            }
        ],
    }
    assert sorted(stored()) == [(10, 10, "api:checkout.approver"), (999_100, 1_000_000, "api:checkout.approver")]

    event = replacements().get()
    assert (event.actor, event.object_id) == (people["checkout.approver"], str(sla.pk))
    assert event.payload == {
        "source": "api:checkout.approver",
        "count": 1,
        "periods": [
            {
                "sla": sla.reference,
                "indicator": INDICATOR,
                "period_start": "2026-11-01T00:00:00+00:00",
                "period_end": "2026-11-02T00:00:00+00:00",
                "previous": {"good": 999_530, "total": 1_000_000, "source": "api:checkout.engineer"},
                "good": 999_100,
                "total": 1_000_000,
            }
        ],
    }


def test_replace_with_nothing_stored_creates_and_audits_nothing(world):
    sla, people = world
    new_day = {**DAY, "period_start": "2026-11-02", "period_end": "2026-11-03", "good": 10, "total": 10}
    answer = as_user(people["checkout.engineer"]).post(
        url(sla), {"measurements": [new_day], "replace": True}, format="json"
    )
    assert answer.json() == {"created": 1, "replaced": 0, "objectives": 1, "replaced_periods": []}
    assert not replacements().exists()


# The write path itself -----------------------------------------------------------------


def test_an_outsider_is_refused_before_the_rows_are_checked(world):
    """An outsider learns nothing from the batch's errors (the objectives, the stored days): NotAllowed first."""
    sla, people = world
    bad = {**ZERO, "sla": sla.reference, "indicator": "Made up", "good": 5, "total": 1}
    with pytest.raises(NotAllowed, match=f"Only members of the provider team record measurements of {sla.reference}"):
        record_measurements(numbered([bad]), source="api", acting_user=people["payments.engineer"])
    with pytest.raises(NotAllowed):
        record_measurements(
            numbered([{**ZERO, "sla": sla.reference}]),
            source="api",
            acting_user=people["payments.engineer"],
            replace=True,
        )
    assert stored() == [(999_530, 1_000_000, "api:checkout.engineer")]


def test_a_day_stored_by_another_writer_meanwhile_is_refused_not_replaced(world, monkeypatch):
    """Two writers at once: the day is stored after this batch looked. The plain insert fails, and the
    batch is refused naming the day, instead of an upsert replacing it in silence."""
    sla, people = world
    look = measurements_module._stored
    looks = []

    def stored_after_the_first_look(measurements, *, lock):
        looks.append(lock)
        return {} if len(looks) == 1 else look(measurements, lock=lock)

    monkeypatch.setattr(measurements_module, "_stored", stored_after_the_first_look)
    with pytest.raises(MeasurementsRejected) as refused:
        record_measurements(
            numbered([{**ZERO, "sla": sla.reference}]), source="api", acting_user=people["checkout.engineer"]
        )
    assert [str(error) for error in refused.value.errors] == [
        f"row 1: {sla.reference} “{INDICATOR}” already has a measurement for 2026-11-01 00:00 to 2026-11-02 00:00 "
        "UTC; send it with replace to replace the stored figures"
    ]
    assert stored() == [(999_530, 1_000_000, "api:checkout.engineer")]
    assert not replacements().exists()


# The import command --------------------------------------------------------------------


def csv_file(tmp_path, sla, *lines):
    path = tmp_path / "measurements.csv"
    path.write_text("\n".join([HEADER, *(f"{sla.reference},{line}" for line in lines)]) + "\n", encoding="utf-8")
    return path


def test_the_attack_through_the_command_is_refused_and_writes_nothing(world, tmp_path, capsys):
    sla, _people = world
    path = csv_file(tmp_path, sla, f"{INDICATOR},2026-11-01,2026-11-02,0,1000000")
    for options in ([], ["--replace"]):
        with pytest.raises(
            CommandError, match=f"Only members of the provider team record measurements of {sla.reference}"
        ):
            call_command("import_measurements", str(path), "--user", "payments.engineer", *options)
    # Rows with errors: still refused for who is importing, before the rows are read out.
    bad = csv_file(tmp_path, sla, "Made up,2026-11-01,2026-11-02,5,1")
    with pytest.raises(CommandError, match="Only members of the provider team"):
        call_command("import_measurements", str(bad), "--user", "payments.engineer")
    assert "Made up" not in capsys.readouterr().err
    assert stored() == [(999_530, 1_000_000, "api:checkout.engineer")]
    assert not replacements().exists()


def test_the_command_refuses_a_whole_file_naming_an_sla_of_another_provider(world, make_sla, tmp_path):
    sla, _people = world
    other = make_sla("Someone else's")
    path = tmp_path / "two.csv"
    path.write_text(
        f"{HEADER}\n{sla.reference},{INDICATOR},2026-11-05,2026-11-06,1,1\n"
        f"{other.reference},Successful requests,2026-11-05,2026-11-06,1,1\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError, match=f"record measurements of {other.reference}; nothing was written"):
        call_command("import_measurements", str(path), "--user", "checkout.engineer")
    assert Measurement.objects.count() == 1


def test_the_command_replaces_only_with_replace_names_what_it_replaced_and_audits_it(world, tmp_path, capsys):
    sla, people = world
    path = csv_file(tmp_path, sla, f"{INDICATOR},2026-11-01,2026-11-02,999100,1000000")
    with pytest.raises(CommandError, match="1 error in"):
        call_command("import_measurements", str(path), "--user", "checkout.engineer")
    assert "line 2: " in capsys.readouterr().err
    assert stored() == [(999_530, 1_000_000, "api:checkout.engineer")]

    call_command("import_measurements", str(path), "--user", "checkout.engineer", "--replace")
    output = capsys.readouterr()
    assert output.out.strip() == f"Imported 1 measurement for 1 objective from {path} (1 replaced)"
    assert output.err.strip() == (
        f"Replaced {sla.reference} “{INDICATOR}” 2026-11-01 00:00 to 2026-11-02 00:00 UTC: "
        "999530/1000000 replaced by 999100/1000000"
    )
    assert stored() == [(999_100, 1_000_000, "csv")]
    event = replacements().get()
    assert event.actor == people["checkout.engineer"]
    assert event.payload["periods"][0]["previous"] == {
        "good": 999_530,
        "total": 1_000_000,
        "source": "api:checkout.engineer",
    }


def test_a_superuser_imports_for_any_sla(world, tmp_path, capsys):
    sla, _people = world
    path = csv_file(tmp_path, sla, f"{INDICATOR},2026-11-02,2026-11-03,5,5")
    call_command("import_measurements", str(path), "--user", "root")
    assert Measurement.objects.count() == 2
