"""Parts of a page that are the same for every borrower, rendered once per language and process.

The privacy centre's tables of what is held and who receives it are some forty translated cells
that only change with the language, yet rendering them costs about 0.5 ms (Jinja2; a third of
the page under Django's engine), nearly all of it translating and escaping the same texts.
"""

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

_rendered: dict[tuple[str, str | None], SafeString] = {}


def rendered_once(template_name: str, constants: dict) -> SafeString:
    """``render_to_string(template_name, constants)``, once per language: for a template whose
    context is constants (no request, no user). The result is HTML the page prints as it is."""
    if settings.DEBUG:  # the development server shows an edited template at once
        return mark_safe(render_to_string(template_name, constants))  # noqa: S308 (escaped by its template)
    key = (template_name, get_language())
    if key not in _rendered:
        _rendered[key] = mark_safe(render_to_string(template_name, constants))  # noqa: S308 (as above)
    return _rendered[key]


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _rendered.clear()  # a test's settings may change the text
