"""Django's i18n tags, where a translated constant is rendered once per language and process.

``{% load constant_i18n %}`` in the project's Django templates (the back office, e-mails, text
messages), in place of ``{% load i18n %}``: every tag and filter of Django's library, and
``makemessages`` reads them as ever. ``{% translate "Save" %}``, or a ``{% blocktranslate %}``
without variables, renders the same text every time for a language (the catalogues are read
once, at start), yet Django looked the text up, made a lazy string, localized and escaped it
again on every render.
These keep what they rendered, per language and escaping; anything with a variable, a filter,
``as`` or ``noop`` takes Django's way.
"""

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Library
from django.template.base import TokenType
from django.templatetags import i18n
from django.utils.translation import get_language

register = Library()
register.tags.update(i18n.register.tags)
register.filters.update(i18n.register.filters)

_generation = [0]  # settings that change catalogues (in tests) start every node afresh


@receiver(setting_changed)
def _catalogues_changed(*, setting, **kwargs):
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}:
        _generation[0] += 1


class _RenderedOnce:
    def render(self, context, **kwargs):
        key = (_generation[0], get_language(), context.autoescape)
        rendered = self.__dict__.setdefault("rendered", {})
        if key not in rendered:
            rendered[key] = super().render(context, **kwargs)
        return rendered[key]


class ConstantTranslateNode(_RenderedOnce, i18n.TranslateNode):
    pass


class ConstantBlockTranslateNode(_RenderedOnce, i18n.BlockTranslateNode):
    pass


def _constant(expression) -> bool:
    return expression is None or (isinstance(expression.var, str) and not expression.filters)


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    node = i18n.do_translate(parser, token)
    expression = node.filter_expression
    if node.noop or node.asvar or expression.filters or expression.var.literal is None:
        return node
    if not _constant(node.message_context):
        return node
    node.__class__ = ConstantTranslateNode
    return node


@register.tag("blocktranslate")
@register.tag("blocktrans")
def do_block_translate(parser, token):
    node = i18n.do_block_translate(parser, token)
    variables = [t for t in node.singular + (node.plural or []) if t.token_type != TokenType.TEXT]
    if node.extra_context or node.countervar or node.asvar or variables:
        return node
    if not _constant(node.message_context):
        return node
    node.__class__ = ConstantBlockTranslateNode
    return node
