from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.demo import DEMO_KEY_NAME, DEMO_REQUESTS
from accounts.models import Account, ApiKey, ApiKeyUsageDay, Role, User
from skybot_inbox.management.commands.seed_demo import DEMO_PASSWORD, DEMO_PEOPLE

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_one_person_per_role_who_can_sign_in():
    # given an empty database
    out = io.StringIO()

    # when the demo is seeded
    call_command("seed_demo", stdout=out)

    # then the demo tenant has one person per role and each signs in with the printed password
    account = Account.objects.get(slug="demo")
    assert {u.role for u in User.objects.all()} == {r.value for r in Role}
    for email, _name, role in DEMO_PEOPLE:
        user = authenticate(email=email, password=DEMO_PASSWORD)
        assert user is not None
        assert user.role == role
        assert user.account == (None if role == Role.SUPER_ADMIN else account)
        assert email in out.getvalue()
    assert DEMO_PASSWORD in out.getvalue()
    assert "/accounts/login/" in out.getvalue()


def test_seed_demo_twice_changes_nothing():
    # given a seeded database
    call_command("seed_demo", stdout=io.StringIO())
    ids = sorted(User.objects.values_list("id", flat=True))
    accounts = sorted(Account.objects.values_list("id", flat=True))

    # when seeding again
    call_command("seed_demo", stdout=io.StringIO())

    # then no row was added
    assert sorted(User.objects.values_list("id", flat=True)) == ids
    assert sorted(Account.objects.values_list("id", flat=True)) == accounts


def test_seed_demo_gives_the_demo_key_two_weeks_of_usage_once():
    # given a seeded database
    call_command("seed_demo", stdout=io.StringIO())
    key = ApiKey.objects.get(name=DEMO_KEY_NAME)
    usage = list(ApiKeyUsageDay.objects.filter(api_key=key).order_by("day"))

    # then the key has 14 days of requests up to today, and was used
    assert [row.requests for row in usage] == DEMO_REQUESTS
    assert usage[-1].day == timezone.localdate()
    assert all(row.client_errors < row.requests for row in usage)
    assert key.last_used_at is not None

    # when seeding again, then the usage is left as it was
    call_command("seed_demo", stdout=io.StringIO())
    assert list(ApiKeyUsageDay.objects.filter(api_key=key).order_by("day")) == usage
    assert [row.requests for row in ApiKeyUsageDay.objects.filter(api_key=key).order_by("day")] == DEMO_REQUESTS


def test_seed_demo_refuses_production_without_the_flag(settings):
    settings.IS_PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("seed_demo", stdout=io.StringIO())
    assert not User.objects.exists()


def test_createsuperuser_from_environment_makes_platform_staff(monkeypatch):
    # given the documented environment variables
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-staff-password-1")

    # when createsuperuser runs non-interactively
    call_command("createsuperuser", interactive=False, stdout=io.StringIO())

    # then a SUPER_ADMIN without a tenant exists and may enter Django admin
    user = User.objects.get(email="root@example.com")
    assert user.role == Role.SUPER_ADMIN
    assert user.account is None
    assert user.is_staff
    assert user.is_superuser
    assert authenticate(email="root@example.com", password="a-long-staff-password-1") == user
