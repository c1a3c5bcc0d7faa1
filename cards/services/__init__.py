"""Every state change of bank cards, one function each (DESIGN.md section 7)."""

from cards.services.binding import CardRefused, card_bind_confirm, card_bind_start
from cards.services.repayment import card_repayment_set, card_swap
from cards.services.step_up import StepUpRefused, step_up_case, step_up_face_finish, step_up_face_start
from cards.services.unbinding import (
    UnbindRefused,
    card_action_code_send,
    card_unbind,
    cards_unbind_all,
    mandate_revoke_at_bank,
)

__all__ = [
    "CardRefused",
    "StepUpRefused",
    "UnbindRefused",
    "card_action_code_send",
    "card_bind_confirm",
    "card_bind_start",
    "card_repayment_set",
    "card_swap",
    "card_unbind",
    "cards_unbind_all",
    "mandate_revoke_at_bank",
    "step_up_case",
    "step_up_face_finish",
    "step_up_face_start",
]
