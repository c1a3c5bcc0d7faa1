import factory
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from accounts.models import User
from accounts.roles import ROLES


class BorrowerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    # Ends in 5: never in 0990/0991, which the FaceID simulator's carrier puts in another name.
    phone = factory.Sequence(lambda n: f"+86138{n:07d}5")
    password = factory.django.Password("borrower-pass-123")


class StaffFactory(factory.django.DjangoModelFactory):
    """A staff member; ``role`` puts them in that role's group."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    password = factory.django.Password("staff-pass-123")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=ROLES[extracted].group))


def issue_backup_code(user) -> tuple[str, str]:
    """A fresh backup code for ``user``: (device persistent id, code)."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name="backup")
    return device.persistent_id, device.token_set.create(token=StaticToken.random_token()).token
