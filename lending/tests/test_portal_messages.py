"""The portal's Jinja2 templates and the catalogues: every text they translate has its Chinese,
and ``makemessages`` finds their texts as it finds those of Django's templates."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils.translation import trans_real

from lending.portal_templates import DIRECTORY, translatable_texts

PORTAL = Path(settings.BASE_DIR) / DIRECTORY


def catalogue_keys(message) -> list:
    """The keys Django's catalogue holds a message under (a plural's forms by number)."""
    if isinstance(message, str):
        return [message]
    if len(message) == 2:  # pgettext: context and text
        return [f"{message[0]}\x04{message[1]}"]
    return [(message[0], 0)]  # ngettext: Chinese has one form


def test_every_text_of_the_portal_templates_is_translated_into_chinese():
    chinese = trans_real.translation("zh-hans")._catalog
    missing = [
        f"{path.relative_to(PORTAL)}:{line} {message!r}"
        for path in sorted(PORTAL.rglob("*.html"))
        for line, _function, message, _comments in translatable_texts(path.read_text())
        if not all(chinese.get(key) for key in catalogue_keys(message))
    ]
    assert missing == []


def test_the_portal_templates_hold_their_texts():
    texts = [text for path in PORTAL.rglob("*.html") for text in translatable_texts(path.read_text())]
    assert len(texts) > 400  # a template whose texts went unread would not count


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / DIRECTORY).mkdir(parents=True)
    (tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_makemessages_reads_the_portal_templates(project):
    (project / DIRECTORY / "page.html").write_text(
        '{% extends "base.html" %}\n'
        '<h1>{{ _("Your cards") }}</h1>\n'
        "{% trans trimmed n=cards|length %}\n  {{ n }} card\n{% pluralize n %}{{ n }} cards{% endtrans %}\n"
        '{# Translators: the month, not the verb #}\n{{ pgettext("month", "May") }}\n'
    )
    call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    catalogue = (project / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text()
    assert f'#: {DIRECTORY / "page.html"}:2\nmsgid "Your cards"' in catalogue
    assert 'msgid "%(n)s card"\nmsgid_plural "%(n)s cards"' in catalogue
    assert "#. Translators: the month, not the verb" in catalogue
    assert 'msgctxt "month"\nmsgid "May"' in catalogue
