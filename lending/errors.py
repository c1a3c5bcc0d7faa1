class DomainError(Exception):
    """A state change the rules refuse. Its message is translated and safe to show the user."""

    code = "refused"

    def __init__(self, message, *, code=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
