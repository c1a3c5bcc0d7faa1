"""Staff roles in the back office, walked over every registered admin: each role reaches exactly
what accounts/roles.py grants, and a refused request leaves every row as it was.

The admins and their URLs come from the registry and the expectations from the role definitions,
so a newly registered admin or a newly granted permission is covered without anyone editing this
file; an admin URL of a kind this walk does not know fails the walk until it is added here.

Nothing in the back office is edited or deleted through a model form: state changes go through
services (actions, the decision form, the disburse and export forms). So change and delete are
refused to every role, even one whose permissions would allow it.
"""

import io
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts.roles import ROLES
from accounts.tests.factories import StaffFactory
from audit.models import AuditEvent, ReviewCase, ReviewDecision
from tests.security import admin_world

pytestmark = pytest.mark.django_db

# The admin URL kinds the walk below opens (the part of each URL name after app_model_).
WALKED = {"changelist", "add", "change", "history", "delete", "simple_history", "reveal", "decide"}
WALKED |= {"download", "config", "qrcode"}
WALKED |= {"act"}  # support.SupportCase: the form support works a request with (reply, note, resolve)

CHANGELIST = {"admin/change_list.html"}

# An admin action's ``permissions=[name]`` calls ``has_<name>_permission``. Most names are the verb
# of one of the model's permissions (``retry``: lending.retry_debitattempt); the others:
ACTION_VERBS = {"handle": "change"}  # RiskAlertAdmin.has_handle_permission: audit.change_riskalert


def perm(model, verb) -> str:
    return f"{model._meta.app_label}.{verb}_{model._meta.model_name}"


def granted(role, model, verb) -> bool:
    return perm(model, verb) in ROLES[role].permissions


def url(model, kind, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{kind}", args=args)


def request_by(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def action_permission(model, name) -> str:
    verb = ACTION_VERBS.get(name, name)
    app_label, codename = perm(model, verb).split(".")
    if not Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists():
        raise AssertionError(
            f"{model.__name__}: name the permission has_{name}_permission checks in ACTION_VERBS"
        )
    return perm(model, verb)


@pytest.fixture
def world(bind, borrower, make_loan):
    return admin_world.build(bind, borrower, make_loan)


def walk(role, client, staff) -> tuple[list, int]:
    """Open every admin URL as ``role``; returns what went wrong and how many rows were opened."""
    problems, opened = [], 0
    role_perms = set(ROLES[role].permissions)
    as_role, as_superuser = request_by(staff), request_by(StaffFactory(is_superuser=True))

    def expect(ok, model, *what):
        if not ok:
            problems.append(" ".join(map(str, (model._meta.label, *what))))

    for model, model_admin in admin_world.registered():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        kinds = {u.name.removeprefix(prefix) for u in model_admin.get_urls() if u.name}
        expect(kinds <= WALKED, model, "admin URLs this walk does not open:", kinds - WALKED)
        view = granted(role, model, "view") or granted(role, model, "change")
        before = admin_world.snapshot(events=False)

        status = client.get(
            url(model, "changelist"), follow=True
        ).status_code  # the event list opens on a week
        expect(status == (200 if view else 403), model, "changelist", status)
        status = client.get(url(model, "add")).status_code
        expect(status == (200 if granted(role, model, "add") else 403), model, "add page", status)
        if not granted(role, model, "add"):
            status = client.post(url(model, "add"), {}).status_code
            expect(status == 403, model, "add", status)

        visible = model_admin.get_queryset(as_role).order_by("pk").first() if view else None
        row = visible or model._base_manager.order_by("pk").first()
        if row is not None:
            opened += 1
            for kind in ("change", "history"):
                status = client.get(url(model, kind, row.pk)).status_code
                if visible:
                    expect(status == 200, model, kind, "page", status)
                elif model_admin.get_queryset(as_role).filter(pk=row.pk).exists():
                    expect(status == 403, model, kind, "page", status)
                else:  # another's export: not found (the admin's history page redirects with "not found")
                    expect(status in (302, 403, 404), model, kind, "page", status)
            if not granted(role, model, "change"):
                status = client.post(url(model, "change", row.pk), {}).status_code
                expect(status == 403, model, "change", status)
            if not granted(role, model, "delete"):
                status = client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code
                expect(status == 403, model, "delete", status)
            if "simple_history" in kinds:
                version = row.history.order_by("history_id").first()
                page = url(model, "simple_history", row.pk, version.history_id)
                status = client.get(page).status_code
                expect(status == (200 if visible else 403), model, "past version page", status)
                status = client.post(page, {}).status_code
                expect(status == 403, model, "restoring a past version", status)  # nobody, ever
            for field in getattr(model_admin, "revealable", {}) if "reveal" in kinds else ():
                status = client.post(url(model, "reveal", row.pk, field)).status_code
                may_reveal = bool(visible) and "accounts.reveal_personal_data" in role_perms
                expect((status == 200) == may_reveal, model, "reveal", field, status)
                expect(status in (200, 403, 404), model, "reveal", field, status)
            if "decide" in kinds and perm(model, "decide") not in role_perms:
                status = client.post(url(model, "decide", row.pk), {"verdict": "approve", "reason": "fine"})
                expect(status.status_code in (302, 403), model, "decide", status.status_code)
            if "download" in kinds and perm(model, "download_any") not in role_perms:  # not the requester
                status = client.get(url(model, "download", row.pk)).status_code
                expect(status != 200, model, "download of another's export", status)
            if "act" in kinds and not granted(role, model, "change"):
                status = client.post(url(model, "act", row.pk), {"action": "note", "text": "x"}).status_code
                expect(status == 403, model, "act", status)
            for kind in {"config", "qrcode"} & kinds:
                status = client.get(url(model, kind, row.pk)).status_code
                expect(status == (200 if view else 403), model, kind, status)

        offered = model_admin.get_actions(as_role)
        for name, (func, _name, _description) in model_admin.get_actions(as_superuser).items():
            needed = [action_permission(model, p) for p in getattr(func, "allowed_permissions", ())]
            allowed = view and all(p in role_perms for p in needed)
            expect(
                (name in offered) == allowed,
                model,
                "action",
                name,
                "offered" if name in offered else "absent",
            )
            if name not in offered and row is not None:
                forged = {"action": name, "_selected_action": [row.pk], "index": 0, "apply": "1", "note": "x"}
                response = client.post(url(model, "changelist"), forged)
                pages = {t.name for t in response.templates}
                # refused, or the list shown again (a role with no action at all): never the action's page
                expect(response.status_code in (200, 302, 403), model, "forged", name, response.status_code)
                expect(response.status_code != 200 or pages & CHANGELIST, model, "forged", name, pages)
        expect(
            not (changed := admin_world.changed_tables(before, events=False)), model, "rows changed:", changed
        )
    return problems, opened


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_reaches_only_what_its_permissions_grant(role, world, admin_login):
    staff = StaffFactory(role=role)
    problems, opened = walk(role, admin_login(staff), staff)
    assert not problems, "\n".join(problems)
    assert opened >= 17  # rows in nearly every table: the walk really opened them


def test_not_even_a_superuser_restores_a_past_version(world, admin_login):
    client = admin_login(StaffFactory(is_superuser=True))
    before = admin_world.snapshot(events=False)
    restorable = 0
    for model, model_admin in admin_world.registered():
        if not any(u.name and u.name.endswith("_simple_history") for u in model_admin.get_urls()):
            continue
        row = model._base_manager.order_by("pk").first()
        if row is not None:
            version = row.history.order_by("history_id").first()
            page = url(model, "simple_history", row.pk, version.history_id)
            assert client.get(page).status_code == 200, model
            assert client.post(page, {}).status_code == 403, model
            restorable += 1
    assert restorable >= 6
    assert admin_world.changed_tables(before, events=False) == []


def test_auditors_have_no_action_that_changes_anything(world, admin_login):
    auditor = request_by(StaffFactory(role="auditor"))
    for model, model_admin in admin_world.registered():
        assert model_admin.get_actions(auditor) == {}, model
        assert not model_admin.has_change_permission(auditor) and not model_admin.has_delete_permission(
            auditor
        )
        assert not model_admin.has_add_permission(auditor) or model._meta.label == "audit.AuditExport"


def test_support_cannot_decide_a_review_case(world, admin_login):
    case = ReviewCase.objects.get()
    client = admin_login(StaffFactory(role="support"))
    before = admin_world.snapshot(events=False)
    assert (
        client.post(url(ReviewCase, "change", case.pk), {"verdict": "approve", "reason": "ok"}).status_code
        == 403
    )
    response = client.post(
        url(ReviewCase, "decide", case.pk),
        {"verdict": "approve", "reason": "ok"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "You may not decide review cases." in response.content.decode()
    assert 'name="verdict"' not in client.get(url(ReviewCase, "change", case.pk)).content.decode()
    assert admin_world.changed_tables(before, events=False) == []
    assert ReviewCase.objects.get().status == ReviewCase.Status.OPEN and not ReviewDecision.objects.exists()


EXPORTERS = sorted(
    role
    for role, definition in ROLES.items()
    if "audit.add_auditexport" in definition.permissions
    and "audit.export_unmasked" not in definition.permissions
)


@pytest.mark.parametrize("role", EXPORTERS)
@pytest.mark.django_db(transaction=True)  # the export reads on a connection of its own
def test_an_unmasked_export_cannot_be_forced_without_its_permission(role, world, admin_login, borrower):
    client = admin_login(StaffFactory(role=role))
    assert 'name="unmasked"' not in client.get("/admin/audit/auditexport/add/").text
    today = timezone.localdate().isoformat()
    response = client.post(
        "/admin/audit/auditexport/add/",
        {"sources": ["users"], "date_from": today, "date_to": today, "format": "csv", "unmasked": "on"},
    )
    users = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("users.csv").decode()
    assert "138****8000" in users
    assert str(borrower.phone)[3:] not in users
    assert AuditEvent.objects.filter(action="export.streamed").get().data["unmasked"] is False
