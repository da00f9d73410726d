"""Settings, read once at the edge from WHOKNOWS_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from indexer.ann import DEFAULT_ANN_THRESHOLD


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("whoknows-data")
    embedder: str | None = None  # None: the one the data folder was built with, else the default
    redis_url: str | None = None
    max_upload_mb: int = 50
    ann_threshold: int = DEFAULT_ANN_THRESHOLD  # chunks from which search is approximate (IVF)
    # Folders that `POST /api/admin/reindex {"source": ...}` may read (and their subfolders);
    # none: the server reads no folder it was not given at the command line.
    reindex_roots: tuple[Path, ...] = ()
    max_job_attempts: int = 3  # a job that failed to finish this often is dead, with its reason
    job_stale_after_s: float = 30.0  # a running job silent this long lost its worker

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(data_dir=Path(env.get("WHOKNOWS_DATA_DIR") or cls.data_dir),
                   embedder=env.get("WHOKNOWS_EMBEDDER") or None,
                   redis_url=env.get("WHOKNOWS_REDIS_URL") or None,
                   max_upload_mb=int(env.get("WHOKNOWS_MAX_UPLOAD_MB") or cls.max_upload_mb),
                   ann_threshold=int(env.get("WHOKNOWS_ANN_THRESHOLD") or cls.ann_threshold),
                   reindex_roots=tuple(Path(p).resolve() for p in (
                       env.get("WHOKNOWS_REINDEX_ROOTS") or "").split(os.pathsep) if p),
                   max_job_attempts=int(env.get("WHOKNOWS_MAX_JOB_ATTEMPTS")
                                        or cls.max_job_attempts),
                   job_stale_after_s=float(env.get("WHOKNOWS_JOB_STALE_AFTER_S")
                                           or cls.job_stale_after_s))

    def to_env(self) -> dict[str, str]:
        """The environment ``from_env`` reads these settings back from (for the processes
        of `whoknows serve --workers N`)."""
        env = {"WHOKNOWS_DATA_DIR": str(self.data_dir.resolve()),
               "WHOKNOWS_REDIS_URL": self.redis_url or "",
               "WHOKNOWS_MAX_UPLOAD_MB": str(self.max_upload_mb),
               "WHOKNOWS_ANN_THRESHOLD": str(self.ann_threshold),
               "WHOKNOWS_REINDEX_ROOTS": os.pathsep.join(str(p) for p in self.reindex_roots),
               "WHOKNOWS_MAX_JOB_ATTEMPTS": str(self.max_job_attempts),
               "WHOKNOWS_JOB_STALE_AFTER_S": str(self.job_stale_after_s)}
        if self.embedder:
            env["WHOKNOWS_EMBEDDER"] = self.embedder
        return env

    def with_overrides(self, data_dir: Path | None = None) -> Settings:
        return replace(self, data_dir=data_dir) if data_dir else self
