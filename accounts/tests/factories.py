from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from accounts.models import Account, Role, User

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class AccountFactory(DjangoModelFactory[Account]):
    class Meta:
        model = Account
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    account = factory.SubFactory(AccountFactory)
    role = Role.USER
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @classmethod
    def _after_postgeneration(cls, instance: User, create: bool, results: object = None) -> None:
        if create:
            instance.save()

    class Params:
        super_admin = factory.Trait(role=Role.SUPER_ADMIN, account=None, is_staff=True, is_superuser=True)
