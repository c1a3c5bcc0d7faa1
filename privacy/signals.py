def cancel_closure_on_sign_in(sender, request, user, **kwargs):
    """Signing in during the cooling-off period cancels the closure (issue 20, item 4)."""
    from privacy.services import account_closure_cancel

    if user.is_borrower:
        account_closure_cancel(actor=user)
