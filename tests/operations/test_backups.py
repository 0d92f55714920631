"""export_registry / import_registry: one JSON file that restores the whole portal, verified, or nothing.

The in-process tests export the test database, then empty it as a restore would (`flush`, which leaves it
freshly migrated) and import the file back: the same database alias, now empty, plays the second database.
The round trip test imports into a real second database of the other vendor, in a subprocess.
"""

import json
import os
import subprocess
import sys
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection
from guardian.models import GroupObjectPermission, UserObjectPermission
from rest_framework.test import APIClient

from api.tokens import create_api_token
from approvals.models import DocumentVersion
from approvals.registry import content_hash
from audit.maintenance import erasing
from audit.models import AuditEvent
from operations.backups import FORMAT, exported_models, governed_content_hashes, unaccounted_models
from reviews.models import ActionItem, PostIncidentReview
from reviews.permissions import visible_reviews
from search.models import SearchDocument
from sla_registry.models import ServiceLevelAgreement, Team

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
POSTGRES_SERVER = "postgres://postgres@127.0.0.1:5432"


# Helpers -------------------------------------------------------------------------------------------


def export(path):
    out = StringIO()
    call_command("export_registry", str(path), stdout=out, stderr=StringIO())
    return out.getvalue()


def import_file(path):
    out = StringIO()
    call_command("import_registry", str(path), stdout=out, stderr=StringIO())
    return out.getvalue()


def refused(path):
    with pytest.raises(CommandError) as failure:
        import_file(path)
    return str(failure.value)


def audit_head():
    return AuditEvent.objects.order_by("-id").values("id", "row_hash").first()


def row_counts():
    return {model._meta.label_lower: model._default_manager.count() for model in exported_models()}


def history_counts():
    return {
        model._meta.label_lower: model._default_manager.count()
        for model in apps.get_models()
        if model.__name__.startswith("Historical")
    }


def object_permissions():
    by_group = {
        (row.group.name, row.permission.codename, row.content_type.model, row.object_pk)
        for row in GroupObjectPermission.objects.select_related("group", "permission", "content_type")
    }
    by_user = {
        (row.user.username, row.permission.codename, row.content_type.model, row.object_pk)
        for row in UserObjectPermission.objects.select_related("user", "permission", "content_type")
    }
    return by_group, by_user


@pytest.fixture
def empty_database():
    """Empty the database as a restore starts: flush leaves it freshly migrated (content types, permissions,
    guardian's anonymous user). The test's transaction rolls it all back afterwards, content types included,
    so the cache of them (now holding the ids of the emptied database) is cleared again on the way out."""
    yield _empty_database
    ContentType.objects.clear_cache()


def _empty_database():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # PostgreSQL will not TRUNCATE tables with pending (deferred foreign key) trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with erasing("test: empty the database before a restore"):
        call_command("flush", interactive=False, verbosity=0)
    ContentType.objects.clear_cache()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def portal_rows():
    """Rows of the exported models, guardian's anonymous user aside (a fresh `migrate` makes it)."""
    counts = row_counts()
    counts["auth.user"] = get_user_model().objects.exclude(username="AnonymousUser").count()
    return {label: count for label, count in counts.items() if count}


def rewrite(path, change):
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    change(data)
    Path(path).write_text(json.dumps(data), encoding="utf-8")


def first_object(data, model, **fields):
    return next(
        item
        for item in data["objects"]
        if item["model"] == model and all(item["fields"].get(key) == value for key, value in fields.items())
    )


# The data --------------------------------------------------------------------------------------------


@pytest.fixture
def portal(
    governed_sla,
    submit_acknowledge,
    approve_all,
    make_team,
    make_service,
    make_review,
    make_user,
    make_matrix,
    make_release,
):
    """A governed SLA with an applied change, a matrix, a restricted review, a release and an API token."""
    change_request = submit_acknowledge(governed_sla, 15)
    assert approve_all(governed_sla, change_request).state == "applied"
    make_matrix(governed_sla.sla.service)
    security = make_team("Security")
    vault = make_service("Card Vault", owner_team=security)
    hidden = make_review(
        [vault],
        title="Leaked vault credentials",
        is_restricted=True,
        restricted_to=[security],
        action_items=[ActionItem(title="Rotate every key", owner_team=security)],
    )
    make_release("2026.12.1", services=[governed_sla.sla.service])
    insider = make_user("security.engineer", teams=[security])
    outsider = make_user("checkout.engineer", teams=[governed_sla.consumer])
    _, token_text = create_api_token(name="deploy pipeline", days=30, acting_user=insider)
    return {
        "governed": governed_sla,
        "hidden": hidden,
        "insider": insider,
        "outsider": outsider,
        "token": token_text,
    }


@pytest.fixture
def export_file(portal, tmp_path):
    path = tmp_path / "registry.json"
    export(path)
    return path


# What is exported --------------------------------------------------------------------------------------


def test_every_installed_model_is_exported_or_left_out_with_a_reason():
    assert unaccounted_models() == []
    labels = {model._meta.label_lower for model in exported_models()}
    assert {"auth.user", "guardian.groupobjectpermission", "audit.auditevent", "api.apitoken"} <= labels
    assert {"sla_registry.historicalservicelevelagreement", "approvals.documentversion"} <= labels
    assert not labels & {"contenttypes.contenttype", "auth.permission", "sessions.session", "search.searchdocument"}


def test_the_export_is_one_json_object_with_counts_hashes_and_the_audit_head(portal, tmp_path):
    path = tmp_path / "registry.json"
    message = export(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert (data["format"], data["version"]) == (FORMAT, 1)
    assert data["counts"] == row_counts()
    assert data["content_hashes"] == governed_content_hashes()
    sla = portal["governed"].sla
    assert f"sla:{sla.pk}" in data["content_hashes"] and f"review:{portal['hidden'].pk}" in data["content_hashes"]
    assert data["audit_head"] == audit_head()
    assert len(data["objects"]) == sum(data["counts"].values())
    assert str(path) in message and f"{sum(data['counts'].values())} rows" in message
    assert os.stat(path).st_mode & 0o077 == 0, "the file holds password hashes: owner only"


# The round trip, in process ---------------------------------------------------------------------------


def test_import_into_an_empty_database_restores_everything_verified(portal, export_file, empty_database):
    hashes, head, counts = governed_content_hashes(), audit_head(), row_counts()
    histories, permissions = history_counts(), object_permissions()
    sla = portal["governed"].sla
    sla_history = list(sla.history.values_list("history_id", "history_change_reason", "history_user_id"))
    hidden, insider, outsider = portal["hidden"], portal["insider"], portal["outsider"]

    empty_database()
    assert portal_rows() == {}
    message = import_file(export_file)

    assert "verified" in message and "audit chain intact" in message
    assert governed_content_hashes() == hashes
    assert audit_head() == head
    assert row_counts() == counts
    # History came over as it was: the import itself recorded no historical rows (no m2m_changed either).
    assert history_counts() == histories
    restored = ServiceLevelAgreement.objects.get(pk=sla.pk)
    assert list(restored.history.values_list("history_id", "history_change_reason", "history_user_id")) == sla_history
    assert DocumentVersion.objects.filter(document_kind="sla", document_id=sla.pk).count() == 2
    verified = StringIO()
    call_command("verify_audit", stdout=verified)
    assert f"Audit chain intact: {AuditEvent.objects.count()} events, head {head['row_hash']}" in verified.getvalue()

    # A restricted review stays restricted to the same teams.
    assert object_permissions() == permissions
    users = get_user_model().objects
    assert hidden.pk in visible_reviews(users.get(pk=insider.pk)).values_list("pk", flat=True)
    assert not visible_reviews(users.get(pk=outsider.pk)).filter(pk=hidden.pk).exists()
    assert PostIncidentReview.objects.get(pk=hidden.pk).restricted_to.get().name == "Security"
    approver = portal["governed"].approvers[portal["governed"].consumer]
    assert users.get(pk=approver.pk).has_perm("sla_registry.approve_for_team", Team.objects.get(slug="checkout"))

    # The API token still authenticates (its digest came over), and as the same user.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {portal['token']}")
    assert client.get("/api/v1/teams/").status_code == 200

    # The search index was rebuilt from the imported rows.
    assert SearchDocument.objects.filter(kind="sla", object_id=sla.pk).exists()

    # New writes carry on: fresh ids (sequences reset) chained onto the imported head.
    _token, _text = create_api_token(name="after restore", days=7, acting_user=users.get(pk=insider.pk))
    newest = AuditEvent.objects.order_by("-id").first()
    assert newest.pk > head["id"] and newest.previous_hash == head["row_hash"]
    call_command("verify_audit", stdout=StringIO())


# Refusals: nothing is written -----------------------------------------------------------------------------


def test_import_into_a_database_holding_data_is_refused_and_writes_nothing(export_file):
    before = row_counts()
    message = refused(export_file)
    assert "already holds portal data" in message and "auth.user" in message
    assert row_counts() == before


def test_import_into_a_database_still_to_migrate_is_refused(export_file, monkeypatch):
    from operations import backups

    monkeypatch.setattr(backups, "unapplied_migrations", lambda: [(type("M", (), {"app_label": "x", "name": "y"}), 0)])
    assert "run `manage.py migrate` first" in refused(export_file)


def _edit_sla_version_snapshot(data, portal):
    sla = portal["governed"].sla
    version = first_object(data, "approvals.documentversion", document_kind="sla", document_id=sla.pk, number=1)
    version["fields"]["snapshot"]["title"] = "Payments for everyone"
    return f"version 1 of sla:{sla.pk}"


def _edit_live_sla(data, portal):
    sla = portal["governed"].sla
    row = next(item for item in data["objects"] if item["model"] == "sla_registry.servicelevelagreement")
    assert row["pk"] == sla.pk
    row["fields"]["review_cadence_days"] = 365
    return f"Content hash mismatch for sla:{sla.pk}"


def _edit_audit_row(data, portal):
    event = [item for item in data["objects"] if item["model"] == "audit.auditevent"][2]
    event["fields"]["object_repr"] = "nothing to see here"
    return f"Audit chain broken (edited): event #{event['pk']} was edited"


def _drop_last_audit_rows(data, portal):
    last = max(item["pk"] for item in data["objects"] if item["model"] == "audit.auditevent")
    data["objects"] = [
        item for item in data["objects"] if not (item["model"] == "audit.auditevent" and item["pk"] == last)
    ]
    data["counts"]["audit.auditevent"] -= 1
    return "Audit head mismatch"


@pytest.mark.parametrize(
    "tamper",
    [_edit_sla_version_snapshot, _edit_live_sla, _edit_audit_row, _drop_last_audit_rows],
    ids=lambda tamper: tamper.__name__.strip("_"),
)
def test_a_tampered_file_is_refused_by_name_and_nothing_is_written(portal, export_file, tamper, empty_database):
    expected = {}
    rewrite(export_file, lambda data: expected.setdefault("message", tamper(data, portal)))
    empty_database()
    message = refused(export_file)
    assert "Nothing was imported" in message and expected["message"] in message
    assert portal_rows() == {}


def test_a_file_written_before_text_was_normalised_still_imports(portal, export_file, empty_database):
    """Before documents were normalised, an annex ending in a newline was stored and hashed as it was."""
    sla = portal["governed"].sla

    def as_written_then(data):
        row = next(item for item in data["objects"] if item["model"] == "sla_registry.servicelevelagreement")
        row["fields"]["technical_annex"] += "\n"
        latest = max(
            (
                item
                for item in data["objects"]
                if item["model"] == "approvals.documentversion"
                and item["fields"]["document_kind"] == "sla"
                and item["fields"]["document_id"] == sla.pk
            ),
            key=lambda item: item["fields"]["number"],
        )
        latest["fields"]["snapshot"]["technical_annex"] += "\n"
        raw = content_hash(latest["fields"]["snapshot"])
        latest["fields"]["content_hash"] = raw
        data["content_hashes"][f"sla:{sla.pk}"] = raw

    rewrite(export_file, as_written_then)
    empty_database()
    message = import_file(export_file)  # a refusal raises CommandError
    assert "verified" in message and "audit chain intact" in message
    assert ServiceLevelAgreement.objects.get(pk=sla.pk).technical_annex.endswith("\n")


def test_a_file_whose_text_differs_in_more_than_line_ends_is_still_refused(portal, export_file, empty_database):
    sla = portal["governed"].sla

    def annex_edited(data):
        row = next(item for item in data["objects"] if item["model"] == "sla_registry.servicelevelagreement")
        row["fields"]["technical_annex"] += "\nExclusions: none."

    rewrite(export_file, annex_edited)
    empty_database()
    assert f"Content hash mismatch for sla:{sla.pk}" in refused(export_file)
    assert portal_rows() == {}


def test_a_truncated_file_is_refused_with_the_position(export_file):
    text = export_file.read_text(encoding="utf-8")
    export_file.write_text(text[: len(text) // 2], encoding="utf-8")
    message = refused(export_file)
    assert "is not valid JSON" in message and "line " in message and "character " in message
    assert "truncated" in message


def test_a_file_of_another_format_or_version_is_refused(tmp_path):
    other = tmp_path / "other.json"
    other.write_text(json.dumps([{"model": "auth.user", "pk": 1, "fields": {}}]), encoding="utf-8")
    assert "is not an SLA Portal registry export" in refused(other)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"format": FORMAT, "version": 2, "objects": []}), encoding="utf-8")
    assert "version 2 registry export; this portal reads version 1" in refused(newer)


def test_a_malformed_object_is_refused_naming_it(export_file, empty_database):
    def break_a_team(data):
        first_object(data, "sla_registry.team", slug="payments")["fields"]["kind"] = None
        first_object(data, "sla_registry.team", slug="payments")["fields"]["not_a_field"] = 1

    rewrite(export_file, break_a_team)
    empty_database()
    message = refused(export_file)
    assert "sla_registry.team pk" in message and "object #" in message
    assert portal_rows() == {}


# The round trip across vendors, in a subprocess ------------------------------------------------------------


@pytest.fixture
def other_vendor_database(tmp_path):
    """A DATABASE_URL for a new, empty database of the vendor the tests are not running on."""
    if connection.vendor == "postgresql":
        yield f"sqlite:///{tmp_path / 'roundtrip.sqlite3'}"
        return
    psycopg = pytest.importorskip("psycopg")
    name = f"sla_roundtrip_{uuid.uuid4().hex[:12]}"
    try:
        server = psycopg.connect(f"{POSTGRES_SERVER}/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        pytest.skip(f"the SQLite → PostgreSQL round trip needs PostgreSQL at {POSTGRES_SERVER}: {error}")
    with server:
        server.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{POSTGRES_SERVER}/{name}"
        finally:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(database_url, *arguments):
    environment = {**os.environ, "DATABASE_URL": database_url}
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"manage.py {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_round_trip_to_the_other_database_vendor(portal, export_file, other_vendor_database, tmp_path):
    first = json.loads(export_file.read_text(encoding="utf-8"))
    manage(other_vendor_database, "migrate", "--no-input", "-v0")
    imported = manage(other_vendor_database, "import_registry", str(export_file))
    assert "verified" in imported
    again = tmp_path / "again.json"
    manage(other_vendor_database, "export_registry", str(again))
    verified = manage(other_vendor_database, "verify_audit")
    assert f"head {first['audit_head']['row_hash']}" in verified

    second = json.loads(again.read_text(encoding="utf-8"))
    assert second["content_hashes"] == first["content_hashes"]
    assert second["counts"] == first["counts"]
    assert second["audit_head"] == first["audit_head"]
    # Every row reads back the same from the other vendor: times to the microsecond, decimals, JSON.
    assert second["objects"] == first["objects"]
