"""Choice labels from the dict built once per field and language (lending/choices.py)."""

from django.utils import translation

from cards.models import Card


def test_labels_follow_the_readers_language_and_unknown_values_show_as_they_are():
    card = Card(status=Card.Status.ACTIVE, card_type="debit")
    with translation.override("en"):
        english = card.get_status_display()
    with translation.override("zh-hans"):
        chinese = card.get_status_display()
    assert english == "Active" and type(chinese) is str and chinese not in ("Active", "")
    assert Card(status="no-such-status").get_status_display() == "no-such-status"
