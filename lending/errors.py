from django.contrib import messages
from django.core.exceptions import ValidationError


class DomainError(Exception):
    """A state change the rules refuse. Its message is translated and safe to show the user."""

    code = "refused"

    def __init__(self, message, *, code=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def as_form_error(self) -> ValidationError:
        """For ``form.add_error``: the page shows the message with the code the API answers
        (``data-code`` on the error, templates/django/forms/errors/list/ul.html)."""
        return ValidationError(self.message, code=self.code)

    def tell(self, request, level=messages.ERROR) -> None:
        """The refusal as a page message, its code in ``data-code`` (templates/portal/base.html)."""
        messages.add_message(request, level, self.message, extra_tags=self.code)
