"""``fixed_url()`` and ``fixed_static()``: the same links as ``url()`` and ``static()``, under
whatever prefix the site is served."""

import pytest
from django.template import engines
from django.urls import NoReverseMatch, get_script_prefix, reverse, set_script_prefix

from lending.fixed_urls import urls_of_this_request


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
        assert urls_of_this_request()[0]("cards:list") == "/portal/cards/"
    finally:
        set_script_prefix(before)
    assert urls_of_this_request()[0]("cards:list") == "/cards/"


def test_a_requests_urls_with_an_id_are_djangos_reversed_urls():
    url = urls_of_this_request()[1]
    for name, args in [
        ("cards:unbind", (7,)),
        ("cards:unbind", (123456789012345678,)),
        ("cards:step_up", (0,)),
        ("loan_detail", (42,)),
        ("cards:list", ()),
    ]:
        assert url(name, *args) == reverse(name, args=args), (name, args)
    assert url("loan_detail", loan_id=5) == reverse("loan_detail", kwargs={"loan_id": 5})
    with pytest.raises(NoReverseMatch):
        url("cards:unbind", -1)  # no id of a row: Django's refusal
    with pytest.raises(NoReverseMatch):
        url("cards:list", 3)  # a URL that takes no id
    before = get_script_prefix()
    set_script_prefix("/portal/")
    try:
        assert urls_of_this_request()[1]("cards:unbind", 7) == "/portal/cards/7/unbind/"
    finally:
        set_script_prefix(before)
