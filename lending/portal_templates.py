"""The borrower portal's template engine: Jinja2, through Django's own backend.

The portal's pages (``templates/portal/``) are Jinja2 templates; the back office, form widgets,
e-mails and text messages keep Django's engine (``templates/``). Jinja2 compiles a template to
Python once, where Django's engine walks a tree of nodes on every render: that walk was a third
to a half of each portal page's CPU (issue 22, ``bench/profile_page.py``).

What the pages get, beside Jinja2's own:
- translation as ``{{ _("Sign out") }}`` and ``{% trans %}...{% pluralize %}...{% endtrans %}``,
  from Django's catalogues (``manage.py makemessages`` reads both, see
  ``lending/management/commands/makemessages.py``);
- ``url()``, ``fixed_url()``, ``fixed_static()``, ``static()``, ``get_current_language()``;
- Django's filters where Jinja2 has none or differs (``date``, ``default``: Django's ``default``
  also replaces an empty value, as the templates expect), and the project's (``money``...).

A missing variable renders as nothing, as in Django, also through a chain of attributes. A
method printed without being called (``{{ page.has_next }}``) fails loudly instead of showing
"<bound method ...>" to a borrower: Jinja2, unlike Django, does not call methods for you.
"""

import datetime
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from django.template import defaultfilters
from django.template.backends.utils import csrf_input
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.formats import localize
from django.utils.functional import SimpleLazyObject
from django.utils.timezone import template_localtime
from django.utils.translation import trans_real
from jinja2 import ChainableUndefined, Environment
from jinja2.ext import GETTEXT_FUNCTIONS, babel_extract

from accounts.devices import device_label
from cards.bank_marks import bank_mark
from lending.fixed_urls import fixed_static, fixed_url, urls_of_this_request
from lending.money import grouped, money
from lending.printed_dates import printed

DIRECTORY = Path("templates", "portal")  # from the project's root, as in settings.TEMPLATES
DATES = (datetime.date, datetime.time)  # a datetime is a date
LOCALIZED = (*DATES, Decimal, float)


def url(name: str, *args, **kwargs) -> str:
    """``{{ url('loan_detail', loan.pk) }}``: Django's ``{% url %}``."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


def as_django_prints(value):
    """Every printed value passes here, to be printed as Django's templates print it: a time in
    TIME_ZONE, a date or number in the format of the page's language. A method printed uncalled
    is a template's mistake, not text for a borrower."""
    if isinstance(value, str):
        return value
    if isinstance(value, LOCALIZED):
        value = template_localtime(value)
        return printed(value) if isinstance(value, DATES) else localize(value)
    if callable(value) and not hasattr(value, "__html__"):
        raise TypeError(f"a template printed {value!r} without calling it")
    return value


def date(value, arg=None) -> str:
    """Django's ``date`` filter, on the time in TIME_ZONE (Django's engine converts it first)."""
    if isinstance(value, datetime.date):
        return printed(template_localtime(value), arg or "DATE_FORMAT")
    return defaultfilters.date(value, arg)


def time(value, arg=None) -> str:
    return defaultfilters.time(template_localtime(value), arg)


def once_per_page(request) -> dict:
    """A context processor for what a page prints many times, worked out once for it:
    - the CSRF field, masked once, as Django's own engine does: the Jinja2 backend masks the
      token afresh wherever a form prints it (every page has two forms: sign out, language),
      each mask 32 draws from the system's randomness;
    - the texts, looked up in the active language's catalogue itself: Django's ``gettext``
      finds the active language in a context-local variable on every call (7 µs against 0.3 µs
      here, some thirty times a page); the same for the dozen fixed URLs of a page, and the
      URLs with an id (``lending/fixed_urls.py``)."""
    catalogue = trans_real.translation(translation.get_language())
    page_fixed_url, page_url = urls_of_this_request()
    return {
        "csrf_input": SimpleLazyObject(lambda: csrf_input(request)),
        "_": catalogue.gettext,  # Jinja2's own ``_`` calls ``gettext`` through the context: twice the work
        "gettext": catalogue.gettext,
        "ngettext": catalogue.ngettext,
        "pgettext": catalogue.pgettext,
        "npgettext": catalogue.npgettext,
        "fixed_url": page_fixed_url,
        "url": page_url,
    }


def environment(**options) -> Environment:
    options.update(undefined=ChainableUndefined, autoescape=True)
    env = Environment(extensions=["jinja2.ext.i18n"], finalize=as_django_prints, **options)  # noqa: S701 (autoescape above)
    env.install_gettext_translations(translation, newstyle=False)
    env.globals.update(
        url=url,
        fixed_url=fixed_url,
        fixed_static=fixed_static,
        static=static,
        get_current_language=translation.get_language,
    )
    env.filters.update(
        date=date,
        time=time,
        default=defaultfilters.default,
        default_if_none=defaultfilters.default_if_none,
        capfirst=defaultfilters.capfirst,
        linebreaksbr=defaultfilters.linebreaksbr,
        stringformat=defaultfilters.stringformat,
        truncatechars=defaultfilters.truncatechars,
        money=money,
        grouped=grouped,
        bank_mark=bank_mark,
        device=device_label,
    )
    return env


def translatable_texts(source: str) -> Iterator[tuple[int, str, str | tuple, list[str]]]:
    """Each text a portal template translates: its line, the gettext function as xgettext knows
    it (``gettext``, ``ngettext``, ``pgettext``), the message (a tuple for the last two) and its
    "Translators:" comments."""
    found = babel_extract(io.BytesIO(source.encode()), GETTEXT_FUNCTIONS, ["Translators:"], {})
    for line, function, message, comments in found:
        yield line, "gettext" if function == "_" else function, message, comments
