"""The small, named errors that services raise and states turn into messages."""


class ServiceError(Exception):
    """A refusal whose text can be shown to the user as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotSignedIn(ServiceError):
    """The caller has no valid session."""

    def __init__(self, message: str = "Please sign in to continue.") -> None:
        super().__init__(message)


class NotAllowed(ServiceError):
    """The caller may not do this, or the thing does not exist for them."""

    def __init__(self, message: str = "That item does not exist.") -> None:
        super().__init__(message)


class PlanRequired(ServiceError):
    """The feature belongs to the paid plan."""

    def __init__(
        self, message: str = "This part of the CRM needs the paid plan."
    ) -> None:
        super().__init__(message)


class InvalidInput(ServiceError):
    """The input was refused; nothing was changed."""


class LoginFailed(ServiceError):
    """One answer for every failed sign-in, whether or not the address exists."""

    def __init__(self) -> None:
        super().__init__("Wrong e-mail address or password.")


class InvitationUnusable(ServiceError):
    """The invitation link is forged, used, expired or empty."""
