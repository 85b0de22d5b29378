"""`accounts.scoping`: the one tenant scope of API views, pages and selectors."""

from __future__ import annotations

import pytest

from accounts.models import ApiKey
from accounts.principals import Principal
from accounts.scoping import tenant_row, tenant_rows
from accounts.services.api_keys import api_key_create
from core.exceptions import NotFound


def _key(account):
    issued = api_key_create(account=account, name="k", scopes=["read"], expires_at=None, actor=Principal.platform_key())
    return issued.api_key


def test_a_tenant_sees_its_rows_and_staff_see_every_tenants(client_admin, other_account, super_admin):
    # given one key in each tenant
    own, foreign = _key(client_admin.account), _key(other_account)

    # then a tenant's person sees only its own; platform staff see both
    assert list(tenant_rows(ApiKey.objects.all(), principal=Principal.for_user(client_admin))) == [own]
    assert set(tenant_rows(ApiKey.objects.all(), principal=Principal.for_user(super_admin))) == {own, foreign}


@pytest.mark.parametrize("pk", ["foreign", 999_999, "not-a-number", None])
def test_a_foreign_missing_or_malformed_id_is_the_same_not_found(client_admin, other_account, pk):
    # given another tenant's key
    foreign = _key(other_account)
    lookup = foreign.pk if pk == "foreign" else pk

    # when the admin asks for it, a missing id or a malformed one, then the answer is the same 404
    with pytest.raises(NotFound) as raised:
        tenant_row(ApiKey.objects.all(), principal=Principal.for_user(client_admin), pk=lookup)
    assert raised.value.status_code == 404
