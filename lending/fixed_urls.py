"""``{{ fixed_url('cards:list') }}`` and ``{{ fixed_static('css/site.css') }}`` in the portal's
templates: ``url()`` for a URL without arguments and ``static()``, worked out once per process
rather than on every request (the header and the tab bar show a dozen on every page; a static
file's hashed name is read from the manifest once, at start).

Kept per URL configuration and script prefix, the two things such a URL depends on here (there
are no language prefixes); a test that overrides settings starts afresh.

A page's ``url()`` without arguments is a fixed URL too. With one id (``url('cards:unbind',
card.pk)``), the URL is reversed once per name with a marker id, and each id is put in the
marker's place (Django's reverse takes about 15 µs a link)."""

from collections.abc import Callable
from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

_MARKER = str(987_654_321_987_654_321)  # an id no row has (18 digits, as lending.ids allows)


def fixed_url(name: str) -> str:
    return _reversed(name, get_urlconf(), get_script_prefix())


def urls_of_this_request() -> tuple[Callable[[str], str], Callable[..., str]]:
    """The page's ``fixed_url`` and ``url``, with the URL configuration and script prefix read
    once, now: each is a context-local variable, slow to read, and a page asks for a dozen URLs.
    ``url`` is ``reverse(name, args=args, kwargs=kwargs)``: without arguments, a fixed URL; with
    one id, quick too."""
    urlconf, prefix = get_urlconf(), get_script_prefix()

    def fixed_url(name: str) -> str:
        return _reversed(name, urlconf, prefix)

    def url(name: str, *args, **kwargs) -> str:
        if not args and not kwargs:
            return _reversed(name, urlconf, prefix)
        if len(args) == 1 and not kwargs and type(args[0]) is int and 0 <= args[0] < 10**18:
            around = _around_an_id(name, urlconf, prefix)
            if around:
                return f"{around[0]}{args[0]}{around[1]}"
        return reverse(name, urlconf=urlconf, args=args or None, kwargs=kwargs or None)

    return fixed_url, url


def fixed_static(path: str) -> str:
    return _static(path, get_script_prefix())


@lru_cache(maxsize=256)
def _reversed(name: str, urlconf, prefix: str) -> str:
    return reverse(name, urlconf=urlconf)


@lru_cache(maxsize=256)
def _around_an_id(name: str, urlconf, prefix: str) -> tuple[str, str] | None:
    """The URL of ``name`` before and after its one id; None for a URL that takes no such id."""
    try:
        marked = reverse(name, urlconf=urlconf, args=[int(_MARKER)])
    except NoReverseMatch:
        return None
    head, found, tail = marked.partition(_MARKER)
    return (head, tail) if found and _MARKER not in tail else None


@lru_cache(maxsize=256)
def _static(path: str, prefix: str) -> str:
    return static(path)


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _reversed.cache_clear()
    _around_an_id.cache_clear()
    _static.cache_clear()
