"""SQL injection strings in every admin search box, list filter, ordering and page parameter, and as
the object id of every admin URL that takes one: never a 500, nothing changed, nothing extra listed.
The parameter names and URLs come from each registered admin itself."""

from urllib.parse import quote

import pytest
from django.test import RequestFactory

from accounts.tests.factories import StaffFactory
from tests.security import admin_world

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "' OR 1=1 --",
    "1; DROP TABLE audit_auditevent; --",
    "%' AND 1=1 AND '%'='",
    '") OR ("1"="1',
    "1 OR 1=1",
    "张三' UNION SELECT password FROM accounts_user --",
    "\x00",
    "9" * 5000,
]
CHANGELIST_PARAMETERS = ("o", "p")  # ordering and page, on every list


def filter_parameters(model_admin, superuser) -> set[str]:
    request = RequestFactory().get("/admin/")
    request.user = superuser
    changelist = model_admin.get_changelist_instance(request)
    return {name for spec in changelist.filter_specs for name in spec.expected_parameters()}


def listed(response) -> list:
    return [row.pk for row in response.context["cl"].result_list]


def test_injection_strings_in_every_search_box_and_filter(bind, borrower, make_loan, admin_login):
    admin_world.build(bind, borrower, make_loan)
    superuser = StaffFactory(is_superuser=True)
    client = admin_login(superuser)
    before = admin_world.snapshot(events=False)
    tried, problems = 0, []
    for model, model_admin in admin_world.registered():
        listing = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        parameters = filter_parameters(model_admin, superuser) | set(CHANGELIST_PARAMETERS)
        if model_admin.search_fields:
            parameters.add("q")
        # Any parameter at all, so the event list shows everything instead of opening on a week.
        everything = listed(client.get(listing, {"p": "1"}))
        for parameter in sorted(parameters):
            # A payload is refused, ignored (all rows) or matches nothing; Django reads any __isnull
            # value but "", "0" and "false" as true, so there it may also list the rows "1" lists.
            acceptable = [[], everything]
            if parameter.endswith("__isnull"):
                acceptable.append(listed(client.get(listing, {parameter: "1"})))
            if parameter == "q":
                acceptable = [[]]  # no row holds any of these strings
            for payload in PAYLOADS:
                response = client.get(listing, {parameter: payload})
                tried += 1
                where = f"{model._meta.label} {parameter}={payload[:20]!r}"
                if response.status_code not in (200, 302, 400):
                    problems.append(f"{where}: {response.status_code}")
                elif response.status_code == 200 and listed(response) not in acceptable:
                    problems.append(f"{where}: listed {len(listed(response))} rows")
    assert not problems, "\n".join(problems)
    assert tried > 400
    assert admin_world.changed_tables(before, events=False) == []


def object_urls(model, model_admin, row) -> list[str]:
    """Every admin URL of ``model`` that takes an object id, with ``{}`` for the id."""
    base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{{}}/"
    urls = [base + "change/", base + "history/", base + "delete/", base]
    names = {u.name for u in model_admin.get_urls() if u.name}
    prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
    if prefix + "simple_history" in names:
        version = row.history.order_by("history_id").first().history_id if row else 1
        urls.append(base + f"history/{version}/")
        if row:  # the version id, too
            urls.append(f"/admin/{model._meta.app_label}/{model._meta.model_name}/{row.pk}/history/{{}}/")
    for field in getattr(model_admin, "revealable", {}) if prefix + "reveal" in names else ():
        urls.append(base + f"reveal/{field}/")
    return urls


def test_injection_strings_as_object_ids_in_every_admin_url(bind, borrower, make_loan, admin_login):
    admin_world.build(bind, borrower, make_loan)
    client = admin_login(StaffFactory(is_superuser=True))
    client.raise_request_exception = False  # a server error is reported below with its URL
    before = admin_world.snapshot(events=False)
    tried, problems = 0, []
    for model, model_admin in admin_world.registered():
        row = model._base_manager.order_by("pk").first()
        for template in object_urls(model, model_admin, row):
            for payload in PAYLOADS:
                url = template.format(quote(payload, safe=""))
                for method in (client.get, client.post):
                    status = method(url).status_code
                    tried += 1
                    if status >= 500:
                        problems.append(
                            f"{method.__name__.upper()} {template} with {payload[:20]!r}: {status}"
                        )
    assert not problems, "\n".join(problems)
    assert tried > 1000
    assert admin_world.changed_tables(before, events=False) == []
