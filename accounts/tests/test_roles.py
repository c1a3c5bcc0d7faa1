import pytest
from django.contrib.auth.models import Group

from accounts.roles import ROLES, sync_staff_groups

pytestmark = pytest.mark.django_db


def permissions_of(group_name):
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_migrate_creates_every_role_group_with_its_permissions():
    for role in ROLES.values():
        assert permissions_of(role.group) == set(role.permissions)


def test_auditors_may_only_view_and_export():
    """Asking for an export (what they may view, masked) is their only permission beyond viewing."""
    others = {p for p in ROLES["auditor"].permissions if not p.split(".")[1].startswith("view_")}
    assert others == {"audit.add_auditexport"}


def test_sync_removes_permissions_granted_by_hand():
    from django.contrib.auth.models import Permission

    group = Group.objects.get(name=ROLES["support"].group)
    group.permissions.add(Permission.objects.get(codename="delete_user"))

    sync_staff_groups()

    assert permissions_of(ROLES["support"].group) == set(ROLES["support"].permissions)
