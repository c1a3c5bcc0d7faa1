"""Staff roles in the back office, walked over every registered admin: each role reaches exactly
what accounts/roles.py grants, and a refused change leaves every row as it was.

The admins come from the registry and the expectations from the role definitions, so a newly
registered admin or a newly granted permission is covered without anyone editing this file.
"""

import io
import zipfile

import pytest
from django.test import RequestFactory
from django.urls import reverse

from accounts.roles import ROLES
from accounts.tests.factories import StaffFactory
from audit.models import AuditEvent
from tests.security import admin_world

pytestmark = pytest.mark.django_db


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def granted(role, model, action) -> bool:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}" in ROLES[role].permissions


@pytest.fixture
def world(bind, borrower, make_loan):
    return admin_world.build(bind, borrower, make_loan)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_role_reaches_only_what_its_permissions_grant(role, world, admin_login):
    staff = StaffFactory(role=role)
    client = admin_login(staff)
    request = RequestFactory().get("/admin/")
    request.user = staff
    checked = 0
    for model, model_admin in admin_world.registered():
        may_view = granted(role, model, "view") or granted(role, model, "change")
        listing = client.get(url(model, "changelist"), follow=True)  # the audit list opens on a week
        assert listing.status_code == (200 if may_view else 403), (role, model, listing.status_code)
        if not granted(role, model, "add"):
            assert client.get(url(model, "add")).status_code == 403, (role, model)
        row = model._base_manager.order_by("pk").first()
        if row is None:
            continue
        before = admin_world.snapshot()
        if not granted(role, model, "change"):
            assert client.post(url(model, "change", row.pk), {}).status_code == 403, (role, model)
        if not granted(role, model, "delete"):
            assert client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403, (
                role,
                model,
            )
        for name, (func, _, _) in model_admin.get_actions(request).items():
            needed = getattr(func, "allowed_permissions", ())
            assert all(granted(role, model, perm) for perm in needed), (role, model, name)
        assert admin_world.snapshot() == before, (role, model)
        checked += 1
    assert checked >= 15  # rows in most tables: the walk really opened them


def test_auditors_have_no_action_that_changes_anything(world, admin_login):
    auditor = StaffFactory(role="auditor")
    request = RequestFactory().get("/admin/")
    request.user = auditor
    for model, model_admin in admin_world.registered():
        assert model_admin.get_actions(request) == {}, model
        assert not model_admin.has_change_permission(request) and not model_admin.has_delete_permission(
            request
        )


def test_support_cannot_decide_a_review_case(world, admin_login):
    from audit.models import ReviewCase

    case = ReviewCase.objects.get()
    client = admin_login(StaffFactory(role="support"))
    before = admin_world.snapshot()
    for data in ({"verdict": "approve", "reason": "looks fine"}, {"_approve": "1", "reason": "looks fine"}):
        assert client.post(url(ReviewCase, "change", case.pk), data).status_code == 403
    assert admin_world.snapshot() == before
    assert ReviewCase.objects.get().status == ReviewCase.Status.OPEN


@pytest.mark.django_db(transaction=True)  # the export reads on a connection of its own
def test_an_unmasked_export_cannot_be_forced_without_its_permission(world, admin_login, borrower):
    client = admin_login(StaffFactory(role="officer"))
    form = client.get("/admin/audit/auditexport/add/").text
    assert 'name="unmasked"' not in form
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    response = client.post(
        "/admin/audit/auditexport/add/",
        {"sources": ["users"], "date_from": today, "date_to": today, "format": "csv", "unmasked": "on"},
    )
    users = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("users.csv").decode()
    assert "138****8000" in users
    assert str(borrower.phone)[3:] not in users
    assert AuditEvent.objects.filter(action="export.streamed").get().data["unmasked"] is False
