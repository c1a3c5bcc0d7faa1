import pytest

from accounts.services import identity_verify
from accounts.tests.factories import BorrowerFactory
from cards.tests.conftest import action_code, bind, borrower  # noqa: F401


@pytest.fixture
def other_borrower():
    user = BorrowerFactory(phone="+8613900139000")
    identity_verify(actor=user, real_name="李四", id_number="310101198506152345")
    return user


@pytest.fixture(autouse=True)
def copy_dir(settings, tmp_path):
    folder = tmp_path / "copies"
    settings.STORAGES = {
        **settings.STORAGES,
        "data_copies": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder},
        },
    }
    return folder


@pytest.fixture
def privacy_code(deliver, last_code):
    """Ask for the code of a privacy step through the page and return it."""
    from cards.tests.conftest import allow_next_code

    def run(client, user, step):
        allow_next_code()
        with deliver():
            client.post(f"/privacy/{step}/code/")
        return last_code(user.phone)

    return run
