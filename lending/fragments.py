"""Parts of a page that are the same for every borrower, rendered once per language and process.

The privacy centre's tables of what is held and who receives it are some forty translated cells
that only change with the language, yet rendering them costs about 0.5 ms (Jinja2; a third of
the page under Django's engine), nearly all of it translating and escaping the same texts. The
header's links and the tab bar, on every page, depend on little more: the page's section and the
unread count (``key``).
"""

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

KEPT = 1000  # fragments; all are dropped when there are more
_rendered: dict[tuple, SafeString] = {}


def rendered_once(template_name: str, constants: dict, key: tuple = ()) -> SafeString:
    """``render_to_string(template_name, constants)``, once per language and ``key``: for a
    template whose context is constants (no request, no user) or values ``key`` holds all of.
    The result is HTML the page prints as it is."""
    if settings.DEBUG:  # the development server shows an edited template at once
        return mark_safe(render_to_string(template_name, constants))  # noqa: S308 (escaped by its template)
    key = (template_name, get_language(), *key)
    if key not in _rendered:
        if len(_rendered) >= KEPT:
            _rendered.clear()
        _rendered[key] = mark_safe(render_to_string(template_name, constants))  # noqa: S308 (as above)
    return _rendered[key]


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _rendered.clear()  # a test's settings may change the text
