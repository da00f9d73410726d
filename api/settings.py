"""Settings, read once at the edge from WHOKNOWS_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from indexer.ann import DEFAULT_ANN_THRESHOLD
from indexer.store import Store, open_store


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("whoknows-data")
    # A PostgreSQL store shared by machines (postgresql://...): the data folder then
    # keeps only this process's derived indexes, models and files received.
    database_url: str | None = None
    # None (WHOKNOWS_EMBEDDER unset or "auto"): the one the data folder was built with; a
    # new folder starts with the default and its first ingest may move it to e5
    # (indexer.language_advice.moves_itself)
    embedder: str | None = None
    redis_url: str | None = None
    max_upload_mb: int = 50
    # The model's threads in a process that embeds documents (ingest, workers; None: one
    # per core). Several workers on one machine run best with one each.
    model_threads: int | None = None
    ann_threshold: int = DEFAULT_ANN_THRESHOLD  # chunks from which search is approximate (IVF)
    # Folders that `POST /api/admin/reindex {"source": ...}` may read (and their subfolders);
    # none: the server reads no folder it was not given at the command line.
    reindex_roots: tuple[Path, ...] = ()
    max_job_attempts: int = 3  # a job that failed to finish this often is dead, with its reason
    job_stale_after_s: float = 30.0  # a running job silent this long lost its worker
    # The learning loop (docs/feedback-and-analytics.md): evidence ageing (0: off), how far
    # readers' verdicts may move a score and how fast they fade, how long searches are
    # kept for analytics, how many askers a topic needs before analytics show it, and
    # whether the expert list spreads questions among comparable experts.
    evidence_half_life_days: float = 0.0
    feedback_bound: float = 0.1
    feedback_half_life_days: float = 180.0
    query_log_days: int = 90
    min_askers: int = 3
    spread_experts: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(data_dir=Path(env.get("WHOKNOWS_DATA_DIR") or cls.data_dir),
                   database_url=env.get("WHOKNOWS_DATABASE_URL") or None,
                   # "auto", like unset: MiniLM, or e5 for a multilingual new folder
                   # (indexer.language_advice.moves_itself)
                   embedder=None if env.get("WHOKNOWS_EMBEDDER", "auto") in ("", "auto")
                   else env["WHOKNOWS_EMBEDDER"],
                   redis_url=env.get("WHOKNOWS_REDIS_URL") or None,
                   max_upload_mb=int(env.get("WHOKNOWS_MAX_UPLOAD_MB") or cls.max_upload_mb),
                   model_threads=int(env["WHOKNOWS_MODEL_THREADS"])
                   if env.get("WHOKNOWS_MODEL_THREADS") else None,
                   ann_threshold=int(env.get("WHOKNOWS_ANN_THRESHOLD") or cls.ann_threshold),
                   reindex_roots=tuple(Path(p).resolve() for p in (
                       env.get("WHOKNOWS_REINDEX_ROOTS") or "").split(os.pathsep) if p),
                   max_job_attempts=int(env.get("WHOKNOWS_MAX_JOB_ATTEMPTS")
                                        or cls.max_job_attempts),
                   job_stale_after_s=float(env.get("WHOKNOWS_JOB_STALE_AFTER_S")
                                           or cls.job_stale_after_s),
                   **_learning_from_env(env))

    def to_env(self) -> dict[str, str]:
        """The environment ``from_env`` reads these settings back from (for the processes
        of `whoknows serve --workers N`)."""
        env = {"WHOKNOWS_DATA_DIR": str(self.data_dir.resolve()),
               "WHOKNOWS_REDIS_URL": self.redis_url or "",
               "WHOKNOWS_DATABASE_URL": self.database_url or "",
               "WHOKNOWS_MAX_UPLOAD_MB": str(self.max_upload_mb),
               "WHOKNOWS_MODEL_THREADS": str(self.model_threads or ""),
               "WHOKNOWS_ANN_THRESHOLD": str(self.ann_threshold),
               "WHOKNOWS_REINDEX_ROOTS": os.pathsep.join(str(p) for p in self.reindex_roots),
               "WHOKNOWS_MAX_JOB_ATTEMPTS": str(self.max_job_attempts),
               "WHOKNOWS_JOB_STALE_AFTER_S": str(self.job_stale_after_s)}
        if self.embedder:
            env["WHOKNOWS_EMBEDDER"] = self.embedder
        env.update({f"WHOKNOWS_{name.upper()}": str(int(value) if isinstance(value, bool)
                                                  else value)
                    for name, value in ((n, getattr(self, n)) for n in LEARNING)})
        return env

    @property
    def store_at(self) -> str | Path:
        """Where the store is: the database URL, else the data folder."""
        return self.database_url or self.data_dir

    def open_store(self) -> Store:
        return open_store(self.store_at)

    @property
    def uploads_dir(self) -> Path:
        """Where this process files uploaded files to ingest them: the data folder's
        ``uploads/``, as a real path (the bytes travel in the store: indexer.uploads)."""
        return (self.data_dir / "uploads").resolve()

    def with_overrides(self, data_dir: Path | None = None) -> Settings:
        return replace(self, data_dir=data_dir) if data_dir else self

    def answer_options(self) -> dict[str, Any]:
        """What the answerer takes from these settings: evidence ageing and feedback."""
        from search.feedback import FeedbackSettings
        from search.recency import Recency

        return {"recency": Recency(self.evidence_half_life_days),
                "feedback": FeedbackSettings(bound=self.feedback_bound,
                                             half_life_days=self.feedback_half_life_days)}


# The learning-loop settings, each read from WHOKNOWS_<NAME> (a bool as 0 or 1).
LEARNING = {"evidence_half_life_days": float, "feedback_bound": float,
            "feedback_half_life_days": float, "query_log_days": int, "min_askers": int,
            "spread_experts": bool}


def _learning_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, kind in LEARNING.items():
        text = env.get(f"WHOKNOWS_{name.upper()}")
        if text:
            out[name] = (text.strip().lower() in ("1", "true", "yes", "on") if kind is bool
                         else kind(text))
    return out
