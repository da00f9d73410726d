"""The whoknows error tree. Every error carries the HTTP status the API answers with.

    WhoknowsError (500)
    ├── InvalidQuery (400)      a blank query, a bad filter value
    ├── InvalidRecord (422)     a person or document record that cannot be used
    ├── IngestError (422)       a file that could not be read (corrupt, no text, unknown type)
    ├── NotFound (404)          an unknown document or person id
    ├── IndexMismatch (409)     a data folder built with another embedding model
    │   └── ModelMoved          it moved to another model while an ingest embedded
    ├── Conflict (409)          a request that contradicts itself or the index
    │                           (the same person twice, more places than a mentor offers)
    ├── NotAllowed (403)        a caller who may not make this change (a mentoring
    │                           relationship changed by someone outside the pair)
    └── StoreUnavailable (503)  the store's server (PostgreSQL) cannot be reached
"""

from __future__ import annotations


class WhoknowsError(Exception):
    """Base of all whoknows errors; ``hint`` says what to do next."""

    status = 500

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InvalidQuery(WhoknowsError):
    status = 400


class InvalidRecord(WhoknowsError):
    status = 422


class IngestError(WhoknowsError):
    status = 422


class NotFound(WhoknowsError):
    status = 404


class IndexMismatch(WhoknowsError):
    status = 409


class ModelMoved(IndexMismatch):
    """A re-embed switched the folder's model while an ingest was embedding with the old
    one: that batch is refused (two models' vectors never meet), and the ingest, run
    again with the new model (a job and `whoknows ingest` do so by themselves), finds
    what it wrote before unchanged."""


class Conflict(WhoknowsError):
    status = 409


class NotAllowed(WhoknowsError):
    status = 403


class StoreUnavailable(WhoknowsError):
    """The store's server (PostgreSQL) cannot be reached; it answers again once it is back."""

    status = 503
