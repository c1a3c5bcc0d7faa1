"""``fixed_url()`` and ``fixed_static()``: the same links as ``url()`` and ``static()``, under
whatever prefix the site is served."""

from django.template import engines
from django.urls import get_script_prefix, set_script_prefix

from lending.fixed_urls import fixed_url_of_this_request


def test_a_fixed_url_is_the_reversed_url_under_the_script_prefix():
    template = engines["jinja2"].from_string("{{ fixed_url('cards:list') }} {{ url('cards:list') }}")
    assert template.render() == "/cards/ /cards/"
    before = get_script_prefix()
    set_script_prefix("/portal/")
    try:
        assert template.render() == "/portal/cards/ /portal/cards/"
    finally:
        set_script_prefix(before)


def test_a_fixed_static_url_is_the_static_url():
    template = engines["jinja2"].from_string(
        "{{ fixed_static('css/site.css') }} {{ static('css/site.css') }}"
    )
    fixed, static = template.render().split()
    assert fixed == static and fixed.endswith(".css")


def test_a_requests_fixed_urls_are_under_its_script_prefix():
    before = get_script_prefix()
    set_script_prefix("/portal/")
    try:
        assert fixed_url_of_this_request()("cards:list") == "/portal/cards/"
    finally:
        set_script_prefix(before)
    assert fixed_url_of_this_request()("cards:list") == "/cards/"
