"""``{% load constant_i18n %}`` (lending/templatetags/constant_i18n.py): a translated constant rendered once
per language renders as Django's own tags render it, in every language, escaped or not, and
anything that varies is still rendered each time."""

import pytest
from django.template import Context, Engine, engines
from django.templatetags import i18n
from django.utils import translation

from lending.templatetags import constant_i18n

SOURCES = [
    '{% translate "Sign out" %}',
    '{% trans "Sign out" context "nothing" %}',
    "{% blocktranslate %}Sign out{% endblocktranslate %}",
    '{% translate "<b>&" %}',
    "{% translate word %}",
    '{% translate "Sign out" as out %}[{{ out }}]',
    "{% blocktranslate with who=word %}Hello {{ who }}{% endblocktranslate %}",
    "{% blocktranslate count n=number %}{{ n }} card{% plural %}{{ n }} cards{% endblocktranslate %}",
    '{% translate "Sign out"|upper %}',
]


def djangos(source: str) -> Engine:
    return Engine(libraries={"i18n": "django.templatetags.i18n"}).from_string("{% load i18n %}" + source)


def ours(source: str):
    return engines["django"].from_string("{% load constant_i18n %}" + source)


@pytest.mark.parametrize("source", SOURCES)
def test_each_tag_renders_as_djangos_in_each_language_and_each_time(source):
    template = ours(source).template  # one template, as the cached loader keeps it
    for word, number, language, autoescape in [
        ("Sign out", 1, "zh-hans", True),
        ("Sign out", 2, "en", True),
        ("Cards", 3, "zh-hans", False),
        ("<i>", 1, "en", False),
        ("Sign out", 2, "zh-hans", True),
    ]:
        values = {"word": word, "number": number}
        with translation.override(language):
            expected = djangos(source).render(Context(values, autoescape=autoescape))
            assert template.render(Context(values, autoescape=autoescape)) == expected, (language, word)


def test_constants_are_rendered_once_and_the_rest_each_time():
    template = ours("".join(SOURCES)).template
    kinds = [
        type(node)
        for node in template.nodelist
        if isinstance(node, i18n.TranslateNode | i18n.BlockTranslateNode)
    ]
    once = (constant_i18n.ConstantTranslateNode, constant_i18n.ConstantBlockTranslateNode)
    assert [kind in once for kind in kinds] == [True, True, True, True, False, False, False, False, False]
    with translation.override("zh-hans"):
        assert "退出" in template.render(Context({"word": "x", "number": 1}))
