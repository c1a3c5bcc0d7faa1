"""The portal's Jinja2 engine prints as Django's templates did: times in TIME_ZONE, dates and
numbers in the page's language, translations from the same catalogues; and it refuses to print a
method that was not called."""

import datetime
import re
from decimal import Decimal

import pytest
from django.template import engines
from django.test import Client
from django.utils import translation

NOON_UTC = datetime.datetime(2026, 11, 30, 16, 30, tzinfo=datetime.UTC)  # 00:30 next day in Shanghai


def render(source: str, language: str = "en", **context) -> str:
    with translation.override(language):
        return engines["jinja2"].from_string(source).render(context)


def test_a_time_is_printed_in_the_time_zone_directly_and_through_the_filters():
    assert render("{{ at }}", at=NOON_UTC) == "Dec. 1, 2026, 12:30 a.m."
    assert render('{{ at|date("Y-m-d H:i") }}', at=NOON_UTC) == "2026-12-01 00:30"
    assert render('{{ at|time("H:i") }}', at=NOON_UTC) == "00:30"
    assert render("{{ at|date }}", "zh-hans", at=NOON_UTC) == "2026年12月1日"


def test_numbers_and_dates_are_printed_in_the_language_of_the_page():
    assert render("{{ day }}", "zh-hans", day=datetime.date(2026, 11, 30)) == "2026年11月30日"
    assert render("{{ rate }} {{ count }}", rate=Decimal("7.20"), count=24) == "7.20 24"


def test_a_method_printed_without_its_call_fails_the_page():
    class Page:
        def has_next(self):
            return True

    with pytest.raises(TypeError, match="without calling it"):
        render("{{ page.has_next }}", page=Page())
    assert render("{{ page.has_next() }}", page=Page()) == "True"


def test_missing_values_print_nothing_and_django_default_replaces_empty_ones():
    assert render("[{{ card.bank.name }}]") == "[]"
    assert render('{{ reason|default("—") }}', reason="") == "—"


def test_texts_are_translated_escaped_and_counted_as_with_django():
    assert render('{{ _("Sign out") }}', "zh-hans") == "退出"
    assert (
        render(
            "{% trans counter=2 %}{{ counter }} unread{% pluralize counter %}{{ counter }} unread{% endtrans %}",
            "zh-hans",
        )
        == "2 条未读"
    )
    assert render("{% trans phone=phone %}Send a code to {{ phone }}{% endtrans %}", phone="<b>") == (
        "Send a code to &lt;b&gt;"
    )


@pytest.mark.django_db
def test_a_page_masks_its_csrf_token_once_for_all_its_forms_and_is_in_its_language():
    client = Client(enforce_csrf_checks=True)
    page = client.get("/accounts/login/").content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert len(tokens) >= 2 and len(set(tokens)) == 1  # the sign-in and language forms
    assert "<title>登录 · 借贷</title>" in page  # the texts are the page's language's
    switched = client.post("/i18n/setlang/", {"language": "en", "csrfmiddlewaretoken": tokens[0]})
    assert switched.status_code == 302
    assert "<title>Sign in · Lending</title>" in client.get("/accounts/login/").content.decode()
