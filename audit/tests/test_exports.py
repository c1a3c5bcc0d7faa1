"""Auditors' exports: content equals the filtered rows, personal data masked, signed manifest."""

import csv
import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.models import User
from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory, StaffFactory
from audit.exporting.sources import SOURCES, masked_name, masked_phone
from audit.exporting.spec import ExportSpec
from audit.models import AuditEvent
from audit.services import ExportRefused, audit_export_stream
from cards.models import Card
from cards.tests.conftest import bind, borrower  # noqa: F401
from cards.tests.sandbox_cards import GOOD_DEBIT, OTHER_GOOD_DEBIT
from lending.pii import mask_name, mask_phone

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = timezone.localdate()
FULL_PHONE = "13800138000"  # the borrower fixture's number
FULL_ID = "110105199003071239"


def spec(**changes) -> ExportSpec:
    return ExportSpec(
        **{"sources": ("events",), "date_from": TODAY - timedelta(days=1), "date_to": TODAY, **changes}
    )


def export_bytes(actor, **changes) -> bytes:
    return b"".join(audit_export_stream(actor=actor, spec=spec(**changes)))


def export(actor, **changes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(export_bytes(actor, **changes)))


def csv_rows(archive, name) -> list[dict]:
    text = archive.read(name).decode("utf-8")
    assert text.startswith("\ufeff"), "Excel needs the BOM to read Chinese"
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


@pytest.fixture
def auditor():
    return StaffFactory(role="auditor")


@pytest.fixture
def two_borrowers(bind, borrower):  # noqa: F811
    bind(borrower, GOOD_DEBIT)
    other = BorrowerFactory()
    identity_verify(actor=other, real_name="李四", id_number="110105198001010016")
    bind(other, OTHER_GOOD_DEBIT, reserved=str(other.phone))
    return borrower, other


def test_events_export_is_exactly_the_borrowers_events_in_id_order(two_borrowers, auditor):
    owner, other = two_borrowers
    card = Card.objects.get(user=owner)
    rows = csv_rows(export(auditor, borrower_id=owner.pk), "events.csv")

    expected = AuditEvent.objects.filter(actor=owner).values_list("pk", flat=True)
    assert [int(row["id"]) for row in rows] == sorted(expected)  # every event here the owner did
    assert {row["action"] for row in rows} >= {"identity.verified", "card.bind_started", "card.bound"}
    assert ("cards.card", str(card.pk)) in {(row["subject_type"], row["subject_id"]) for row in rows}
    assert str(other.pk) not in {row["actor_id"] for row in rows}
    bound = next(row for row in rows if row["action"] == "card.bound")
    assert json.loads(bound["data"])["card"] == f"**** {card.last4}"


def test_filters_by_action_actor_subject_and_date(two_borrowers, auditor):
    owner, other = two_borrowers
    bound = csv_rows(export(auditor, actions=("card.bound",)), "events.csv")
    assert sorted(row["actor_id"] for row in bound) == sorted([str(owner.pk), str(other.pk)])

    theirs = csv_rows(export(auditor, actor_id=other.pk), "events.csv")
    assert theirs and {row["actor_id"] for row in theirs} == {str(other.pk)}

    card = Card.objects.get(user=other)
    about_card = csv_rows(export(auditor, subject_type="cards.card", subject_id=str(card.pk)), "events.csv")
    assert [row["action"] for row in about_card] == ["card.bound"]

    future = export(auditor, date_from=TODAY + timedelta(days=1), date_to=TODAY + timedelta(days=2))
    assert csv_rows(future, "events.csv") == []


def test_history_is_masked_and_no_full_number_leaves(two_borrowers, auditor):
    owner, _ = two_borrowers
    sources = tuple(SOURCES)
    raw = export_bytes(auditor, sources=sources, borrower_id=owner.pk)
    archive = zipfile.ZipFile(io.BytesIO(raw))

    assert sorted(archive.namelist()) == sorted([f"{name}.csv" for name in sources] + ["manifest.json"])
    users = csv_rows(archive, "users.csv")
    assert {row["phone"] for row in users} == {"138****8000"}
    identities = csv_rows(archive, "identities.csv")
    assert {row["real_name"] for row in identities} == {"张*"}
    assert {row["holder_name"] for row in csv_rows(archive, "cards.csv")} == {"张*"}
    for name in archive.namelist():
        text = archive.read(name).decode("utf-8")
        for secret in (FULL_PHONE, FULL_ID, GOOD_DEBIT, "张三", "李四", "110105198001010016"):
            assert secret not in text, (name, "holds unmasked personal data")


def test_unmasked_needs_its_own_permission_and_is_recorded(two_borrowers, auditor):
    owner, _ = two_borrowers
    with pytest.raises(ExportRefused):
        export_bytes(auditor, sources=("users",), unmasked=True)
    assert not AuditEvent.objects.filter(action="export.streamed").exists()

    trusted = StaffFactory(role="auditor")
    trusted.user_permissions.add(*_permissions("export_unmasked"))
    trusted = User.objects.get(pk=trusted.pk)
    archive = export(trusted, sources=("users", "identities"), borrower_id=owner.pk, unmasked=True)

    assert {row["phone"] for row in csv_rows(archive, "users.csv")} == {f"+86{FULL_PHONE}"}
    assert {row["real_name"] for row in csv_rows(archive, "identities.csv")} == {"张三"}
    event = AuditEvent.objects.get(action="export.streamed")
    assert event.actor == trusted and event.data["unmasked"] is True
    assert event.data["borrower_id"] == owner.pk and event.data["sources"] == ["users", "identities"]


def _permissions(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="audit", codename__in=codenames)


def test_support_cannot_export_and_officers_export_what_they_can_view(two_borrowers):
    with pytest.raises(ExportRefused):
        export_bytes(StaffFactory(role="support"))
    assert "events.csv" in export(StaffFactory(role="officer")).namelist()


def test_sql_masks_equal_the_python_masks():
    phones = ["+8613800138000", "+8619912345678", "+8614700000001"]
    for phone in phones:
        BorrowerFactory(phone=phone)
    masked = dict(
        User.objects.filter(phone__in=phones).annotate(m=masked_phone("phone")).values_list("phone", "m")
    )
    assert masked == {phone: mask_phone(phone) for phone in phones}
    staff = StaffFactory()
    assert User.objects.filter(pk=staff.pk).annotate(m=masked_phone("phone")).get().m == mask_phone(
        staff.phone
    )

    for name in ["张三", "欧阳娜娜", "李", "Zhang San"]:
        user = BorrowerFactory()
        User.objects.filter(pk=user.pk).update(username=name)
        assert User.objects.filter(pk=user.pk).annotate(m=masked_name("username")).get().m == mask_name(name)


def test_json_lines_hold_one_object_per_row_with_data_as_json(two_borrowers, auditor):
    owner, _ = two_borrowers
    archive = export(auditor, borrower_id=owner.pk, format="jsonl", sources=("events", "cards"))
    events = [json.loads(line) for line in archive.read("events.jsonl").decode().splitlines()]
    assert list(events[0]) == list(SOURCES["events"].columns)
    assert next(e for e in events if e["action"] == "card.bound")["data"]["card"].startswith("**** ")
    assert all(event["actor_id"] == owner.pk for event in events)
    cards = [json.loads(line) for line in archive.read("cards.jsonl").decode().splitlines()]
    assert cards[0]["holder_name"] == "张*" and cards[0]["is_repayment"] is True


def test_manifest_is_signed_and_verify_export_checks_every_file(two_borrowers, auditor, tmp_path, capsys):
    path = tmp_path / "export.zip"
    path.write_bytes(export_bytes(auditor, sources=("events", "cards")))
    manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))["payload"]
    events = AuditEvent.objects.count()  # the export's own event included: it is recorded first
    assert [(f["name"], f["rows"]) for f in manifest["files"]] == [("events.csv", events), ("cards.csv", 2)]
    assert manifest["requested_by"] == auditor.username and manifest["personal_data"] == "masked"

    call_command("verify_export", str(path))
    assert capsys.readouterr().out.startswith(f"OK: 2 files, {events + 2} rows")

    # Unpacked, with one row removed: the file no longer matches the signed manifest.
    folder = tmp_path / "unpacked"
    zipfile.ZipFile(path).extractall(folder)
    call_command("verify_export", str(folder / "manifest.json"))
    lines = (folder / "cards.csv").read_bytes().splitlines(keepends=True)
    (folder / "cards.csv").write_bytes(b"".join(lines[:-1]))
    with pytest.raises(CommandError, match="cards.csv: content differs"):
        call_command("verify_export", str(folder / "manifest.json"))

    # A manifest rewritten to match the cut file fails its signature.
    body = json.loads((folder / "manifest.json").read_text())
    body["payload"]["files"][1]["rows"] = 1
    (folder / "manifest.json").write_text(json.dumps(body))
    with pytest.raises(CommandError, match="signature is not valid"):
        call_command("verify_export", str(folder / "manifest.json"))


def test_chain_head_in_the_manifest_is_the_sealed_head(two_borrowers, auditor, settings):
    from audit.models import AuditBlock
    from audit.services import audit_events_seal

    settings.AUDIT_SEAL_DELAY_SECONDS = 0
    audit_events_seal()
    head = AuditBlock.objects.order_by("-number").first()
    manifest = json.loads(export(auditor).read("manifest.json"))["payload"]
    assert manifest["chain_head"]["block"] == head.number
    assert manifest["chain_head"]["hash"] == head.hash_hex
    assert manifest["chain_head"]["last_event_id"] == head.last_event_id


def test_export_audit_command_writes_a_verifiable_export(two_borrowers, auditor, tmp_path, capsys):
    owner, _ = two_borrowers
    path = tmp_path / "out.zip"
    call_command(
        "export_audit", "--as", auditor.username, "--output", str(path), "--source", "events",
        "--source", "loans", "--borrower", FULL_PHONE, "--format", "jsonl",
    )  # fmt: skip
    assert "verify_export" in capsys.readouterr().out
    call_command("verify_export", str(path))
    assert zipfile.ZipFile(path).namelist() == ["events.jsonl", "loans.jsonl", "manifest.json"]
    event = AuditEvent.objects.get(action="export.streamed")
    assert event.data["borrower_id"] == owner.pk and FULL_PHONE not in json.dumps(event.data)

    with pytest.raises(CommandError, match="permission"):
        call_command("export_audit", "--as", StaffFactory(role="support").username, "--output", str(path))
