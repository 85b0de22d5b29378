"""Who is calling: a person, a tenant's API key, the legacy platform key, or a plugin acting for
a tenant (its actions are audited under `plugin:<id>`).

Every API view works with a `Principal`, so role checks and tenant scoping are written once for
JWT, session and API-key callers alike. API-key scopes map onto roles: read → VIEWER,
write → USER, admin → CLIENT_ADMIN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from accounts.models import Role

if TYPE_CHECKING:
    from accounts.models import Account, ApiKey, User

SCOPE_ROLES = {"read": Role.VIEWER, "write": Role.USER, "admin": Role.CLIENT_ADMIN}


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "api_key", "platform_key", "plugin"]
    role: str
    account: Account | None
    user: User | None = None
    api_key: ApiKey | None = None
    scopes: tuple[str, ...] = field(default=())
    name: str = ""  # a plugin's id

    # DRF's IsAuthenticated and throttles look at these on `request.user`.
    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self) -> Any:
        if self.api_key is not None:
            return f"key:{self.api_key.pk}"
        if self.user is not None:
            return f"user:{self.user.pk}"
        if self.kind == "plugin":
            return f"plugin:{self.name}"
        return "platform"

    @property
    def is_platform(self) -> bool:
        """Platform staff see every tenant; everybody else sees exactly one."""
        return self.account is None and self.role == Role.SUPER_ADMIN

    @property
    def is_staff_acting(self) -> bool:
        """Platform staff working in one tenant they chose (the web's tenant switcher)."""
        return (
            self.kind == "user"
            and self.role == Role.SUPER_ADMIN
            and self.account is not None
            and self.user is not None
            and self.user.account_id is None
        )

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.email
        if self.api_key is not None:
            return f"api_key:{self.api_key.prefix}"
        if self.kind == "plugin":
            return f"plugin:{self.name}"
        return "platform_key"

    def has_role(self, required: str) -> bool:
        return Role.rank(self.role) >= Role.rank(required)

    @classmethod
    def for_user(cls, user: User) -> Principal:
        return cls(kind="user", role=user.role, account=user.account, user=user)

    @classmethod
    def for_staff_in(cls, user: User, account: Account) -> Principal:
        """Platform staff acting in `account`: every right there, and only there (rows are scoped to it)."""
        return cls(kind="user", role=Role.SUPER_ADMIN, account=account, user=user)

    @classmethod
    def for_api_key(cls, api_key: ApiKey) -> Principal:
        scopes = tuple(api_key.scopes)
        roles = [SCOPE_ROLES[scope] for scope in scopes if scope in SCOPE_ROLES] or [Role.VIEWER]
        role = max(roles, key=Role.rank)
        return cls(kind="api_key", role=role, account=api_key.account, api_key=api_key, scopes=scopes)

    @classmethod
    def for_plugin(cls, account: Account, plugin_id: str) -> Principal:
        """A plugin applying its actions in `account`: a USER's rights, audited as `plugin:<id>`."""
        return cls(kind="plugin", role=Role.USER, account=account, name=plugin_id)

    @classmethod
    def platform_key(cls) -> Principal:
        return cls(kind="platform_key", role=Role.SUPER_ADMIN, account=None, scopes=("read", "write", "admin"))


def principal_from_request(request: Any) -> Principal:
    """The principal DRF authenticated (`request.user`), as a `Principal`."""
    user = request.user
    if isinstance(user, Principal):
        return user
    return Principal.for_user(user)
