"""``{{ fixed_url('cards:list') }}`` and ``{{ fixed_static('css/site.css') }}`` in the portal's
templates: ``url()`` for a URL without arguments and ``static()``, worked out once per process
rather than on every request (the header and the tab bar show a dozen on every page; a static
file's hashed name is read from the manifest once, at start).

Kept per URL configuration and script prefix, the two things such a URL depends on here (there
are no language prefixes); a test that overrides settings starts afresh."""

from collections.abc import Callable
from functools import lru_cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse


def fixed_url(name: str) -> str:
    return _reversed(name, get_urlconf(), get_script_prefix())


def fixed_url_of_this_request() -> Callable[[str], str]:
    """``fixed_url`` with the URL configuration and script prefix read once, now: each is a
    context-local variable, slow to read, and a page asks for a dozen URLs."""
    urlconf, prefix = get_urlconf(), get_script_prefix()
    return lambda name: _reversed(name, urlconf, prefix)


def fixed_static(path: str) -> str:
    return _static(path, get_script_prefix())


@lru_cache(maxsize=256)
def _reversed(name: str, urlconf, prefix: str) -> str:
    return reverse(name, urlconf=urlconf)


@lru_cache(maxsize=256)
def _static(path: str, prefix: str) -> str:
    return static(path)


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    _reversed.cache_clear()
    _static.cache_clear()
