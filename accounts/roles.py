"""Staff roles and what each may do in the back office, as code.

After every ``migrate`` the three groups are brought to exactly these permissions, so a
new model's permissions are granted here and nowhere else, and hand edits in the admin do
not drift. Auditors only ever get ``view_`` permissions, and may export what they can view.
Unmasked exports and downloading another's export are granted to a person, never to a role.
"""

from dataclasses import dataclass

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Role:
    group: str  # the group's stored name, a stable code
    label: str  # what staff read
    permissions: tuple[str, ...]


_BORROWER_RECORDS = (
    "accounts.view_user",
    "accounts.view_historicaluser",
    "accounts.view_identity",
    "accounts.view_historicalidentity",
    "accounts.view_phonechange",
    "accounts.view_historicalphonechange",
    "accounts.view_consent",
    "cards.view_card",
    "cards.view_historicalcard",
    "cards.view_mandate",
    "cards.view_historicalmandate",
    "cards.view_cardbindrequest",
    "cards.view_banknotice",
    "cards.view_reconciliationrun",
    "cards.view_reconciliationbreak",
    "cards.view_historicalreconciliationbreak",
    "lending.view_loan",
    "lending.view_historicalloan",
    "lending.view_installment",
    "lending.view_historicalinstallment",
    "lending.view_debitattempt",
)

# Help requests: the support role works them, officers too (item 1 of issue 20).
_SUPPORT_WORK = ("support.view_supportcase", "support.change_supportcase")

_REVIEW_RECORDS = (
    "audit.view_auditevent",
    "audit.view_auditblock",
    "audit.view_auditarchive",
    "audit.view_reviewcase",
    "audit.view_historicalreviewcase",
    "audit.view_reviewdecision",
    "audit.view_riskalert",
    "audit.view_auditexport",
    "audit.add_auditexport",
)

ROLES = {
    "officer": Role(
        group="Compliance officers",
        label=_("Compliance officers"),
        permissions=(
            *_BORROWER_RECORDS,
            *_REVIEW_RECORDS,
            "audit.decide_reviewcase",
            "audit.change_riskalert",
            "lending.add_loan",
            "accounts.reveal_personal_data",
            "lending.retry_debitattempt",
            "cards.resolve_reconciliationbreak",
            *_SUPPORT_WORK,
            "privacy.view_accountclosure",
        ),
    ),
    "auditor": Role(
        group="Auditors",
        label=_("Auditors"),
        permissions=(*_BORROWER_RECORDS, *_REVIEW_RECORDS),
    ),
    "support": Role(
        group="Support",
        label=_("Customer support"),
        permissions=(
            "accounts.view_user",
            "accounts.view_phonechange",
            "audit.view_reviewcase",
            "cards.view_card",
            "cards.view_cardbindrequest",
            "lending.view_loan",
            "lending.view_debitattempt",
            *_SUPPORT_WORK,
        ),
    ),
}


def role_label(role: str) -> str:
    """A role ("officer") as staff read it; an unknown one as it is."""
    return str(ROLES[role].label) if role in ROLES else role


def group_label(name: str) -> str:
    """A group's stored name ("Compliance officers") as staff read it."""
    return next((str(role.label) for role in ROLES.values() if role.group == name), name)


def sync_staff_groups(*, using=DEFAULT_DB_ALIAS, verbosity=1, **kwargs):
    """post_migrate receiver: create the role groups with exactly their permissions."""
    from django.contrib.auth.models import Group, Permission

    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    for role in ROLES.values():
        wanted = set(role.permissions)
        found = list(
            Permission.objects.using(using)
            .select_related("content_type")
            .filter(codename__in={p.split(".")[1] for p in wanted})
        )
        found = [p for p in found if f"{p.content_type.app_label}.{p.codename}" in wanted]
        missing = wanted - {f"{p.content_type.app_label}.{p.codename}" for p in found}
        if missing:
            raise LookupError(f"role {role.group!r} names unknown permissions: {sorted(missing)}")
        group, _ = Group.objects.using(using).get_or_create(name=role.group)
        group.permissions.set(found)
