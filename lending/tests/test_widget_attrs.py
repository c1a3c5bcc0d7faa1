"""The project's attrs.html, input.html and select_option.html (lending/templatetags/widget_attrs.py)
render every widget exactly as Django's own templates do."""

from pathlib import Path

import django.forms
import pytest
from django import forms
from django.forms.renderers import DjangoTemplates, TemplatesSetting
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

ATTRS = {
    "required": True,
    "disabled": False,
    "maxlength": 6,
    "placeholder": 'say "hi" & <go>',
    "aria-describedby": gettext_lazy("Cards"),
    "data-raw": mark_safe("a&amp;b"),
    "data-tuple": (1, 2),
    "data-none": None,
}


class OtherOptions(forms.Select):
    option_template_name = "django/forms/widgets/input_option.html"  # not select_option.html


class Everything(forms.Form):
    text = forms.CharField(widget=forms.TextInput(attrs=ATTRS), initial='x"<y>')
    number = forms.IntegerField(widget=forms.NumberInput(attrs=ATTRS), initial=12345)
    secret = forms.CharField(widget=forms.PasswordInput(attrs=ATTRS))
    hidden = forms.CharField(widget=forms.HiddenInput(attrs=ATTRS), initial="h&")
    choice = forms.ChoiceField(
        choices=[(1, "one"), ("<2>", 'two "2"'), ("Group", [(3, "three")])], widget=forms.Select(attrs=ATTRS)
    )
    many = forms.MultipleChoiceField(choices=[(1, "a"), (2, "b")], widget=forms.CheckboxSelectMultiple)
    several = forms.MultipleChoiceField(
        choices=[(1, "a"), (2, "b")], widget=forms.SelectMultiple(attrs=ATTRS)
    )
    other_options = forms.ChoiceField(choices=[(1, "a")], widget=OtherOptions)
    radio = forms.ChoiceField(choices=[(1, "a"), (2, "b")], widget=forms.RadioSelect(attrs=ATTRS))
    note = forms.CharField(widget=forms.Textarea(attrs=ATTRS))
    agree = forms.BooleanField(widget=forms.CheckboxInput(attrs=ATTRS))
    day = forms.DateField(widget=forms.SelectDateWidget)


class DjangosOwn(DjangoTemplates):
    """Django's form templates alone, as shipped."""

    @property
    def engine(self):
        return self.backend(
            {
                "APP_DIRS": False,
                "DIRS": [Path(django.forms.__file__).parent / "templates"],
                "NAME": "own",
                "OPTIONS": {},
            }
        )


@pytest.mark.parametrize("bound", [False, True])
def test_every_widget_renders_as_djangos_templates_render_it(bound):
    data = {"text": "t<", "number": "7", "choice": "<2>", "many": ["1", "2"], "several": ["2"], "agree": "on"}
    ours = Everything(data if bound else None, renderer=TemplatesSetting())
    theirs = Everything(data if bound else None, renderer=DjangosOwn())
    for name in Everything.base_fields:
        assert str(ours[name]) == str(theirs[name]), name
