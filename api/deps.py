"""Request dependencies: the server state and the authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Cookie, Depends, Header, Request

from api.state import ServerState
from indexer.errors import WhoknowsError
from indexer.keys import role_allows
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
    person: str | None = None  # the person the key stands for, if any

    def can(self, role: str) -> bool:
        return role_allows(self.role, role)

    def filters(self, base: Filters | None = None) -> Filters:
        return replace(base or Filters(), groups=self.groups)


def get_state(request: Request) -> ServerState:
    return request.app.state.whoknows


State = Annotated[ServerState, Depends(get_state)]


KEY_COOKIE = "whoknows_key"  # the web pages keep the reader's key in this HttpOnly cookie


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def open_mode(state: ServerState) -> bool:
    """Everyone reads everything, as admin: only while no key is active AND the server
    listens on loopback alone. The rule is asked on every request, so revoking the last
    key of a server bound beyond loopback closes it instead of opening it."""
    return state.bind_host in LOOPBACK and not state.keys.active()


def _closed(state: ServerState) -> Unauthorized:
    if not state.keys.active():  # bound beyond loopback with no key left: closed
        return Unauthorized(
            f"this server listens on {state.bind_host} and has no active API key, so it "
            "answers nobody", "an admin creates a key with `whoknows keys add --role admin` "
            "(or restarts the server on 127.0.0.1 to run it open on this machine only)")
    return Unauthorized("an API key is required",
                        "send 'Authorization: Bearer <key>'; an admin creates keys with "
                        "`whoknows keys add --role reader`")


def caller_for_key(state: ServerState, secret: str) -> Caller:
    """The caller a key stands for; Unauthorized when it is unknown or revoked."""
    key = state.keys.verify(secret.strip())
    if key is None:
        raise Unauthorized("the API key is unknown or revoked", "ask an admin for a new key")
    groups = None if key.role == "admin" else key.groups
    return Caller(role=key.role, groups=groups, key_id=key.id, person=key.person_id)


def get_caller(state: State, authorization: Annotated[str | None, Header()] = None) -> Caller:
    if authorization:  # a key that is sent is checked, open or not: a revoked key fails
        if not authorization.lower().startswith("bearer "):
            raise _closed(state)
        return caller_for_key(state, authorization.split(" ", 1)[1])
    if open_mode(state):
        return Caller(role="admin", groups=None)
    raise _closed(state)


def get_page_caller(state: State,
                    key: Annotated[str | None, Cookie(alias=KEY_COOKIE)] = None) -> Caller:
    """The web pages' caller: the key from the cookie the key form sets. The JSON API
    does not read the cookie, so a cross-site request cannot use it there."""
    if open_mode(state):  # a stale cookie from before the keys went is ignored
        return Caller(role="admin", groups=None)
    if not key:
        if not state.keys.active():
            raise _closed(state)
        raise Unauthorized("an API key is required",
                           "enter your key below; an admin creates one with "
                           "`whoknows keys add --role reader`")
    return caller_for_key(state, key)


def require(role: str):
    """A dependency that lets through callers holding ``role`` (admin > lms > reader)."""

    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if not caller.can(role):
            raise Forbidden(f"this needs the {role} role; your key has {caller.role}",
                            "ask an admin for a key with that role")
        return caller

    return check


Reader = Annotated[Caller, Depends(require("reader"))]
PageReader = Annotated[Caller, Depends(get_page_caller)]  # every role reads pages
Admin = Annotated[Caller, Depends(require("admin"))]
