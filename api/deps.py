"""Request dependencies: the server state and the authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, Header, Request

from api.state import ServerState
from indexer.errors import WhoknowsError
from indexer.keys import ROLES
from indexer.records import Filters


class Unauthorized(WhoknowsError):
    status = 401


class Forbidden(WhoknowsError):
    status = 403


@dataclass(frozen=True)
class Caller:
    """Who is asking: a role, and the document groups they may read (None: all)."""

    role: str
    groups: tuple[str, ...] | None
    key_id: str | None = None

    def filters(self, base: Filters | None = None) -> Filters:
        return replace(base or Filters(), groups=self.groups)


def get_state(request: Request) -> ServerState:
    return request.app.state.whoknows


State = Annotated[ServerState, Depends(get_state)]


def get_caller(state: State, authorization: Annotated[str | None, Header()] = None) -> Caller:
    keys = state.keys
    with state.lock:
        open_mode = not keys.active()
    if open_mode:
        return Caller(role="admin", groups=None)  # no keys: the server binds loopback only
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("an API key is required",
                           "send 'Authorization: Bearer <key>'; an admin creates keys with "
                           "`whoknows keys add --role reader`")
    with state.lock:
        key = keys.verify(authorization.split(" ", 1)[1].strip())
    if key is None:
        raise Unauthorized("the API key is unknown or revoked", "ask an admin for a new key")
    groups = None if key.role == "admin" else key.groups
    return Caller(role=key.role, groups=groups, key_id=key.id)


def require(role: str):
    """A dependency that lets through callers holding ``role`` (admin > lms > reader)."""

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if ROLES.index(caller.role) < ROLES.index(role):
            raise Forbidden(f"this needs the {role} role; your key has {caller.role}",
                            "ask an admin for a key with that role")
        return caller

    return check


Reader = Annotated[Caller, Depends(require("reader"))]
Admin = Annotated[Caller, Depends(require("admin"))]
