"""When a cosine is close enough to count: the one rule for documents, skills and
questions, in expert lists, mentoring, reading lists, ``weak_match`` and feedback alike.

A cosine counts when it is at least a floor on the common scale
(``indexer.embedders.rescale``) and at least a margin above the query's cosine to the
centre of what it is compared with (the mean of their unit vectors, so the query's mean
cosine to them all). MiniLM puts unrelated texts near 0, where the floors alone were
drawn (the demo's questions meet its corpus as a whole at 0.02-0.25); multilingual-e5
at 0.23-0.43, and the centre lifts the line for every query alike (docs/benchmarks.md,
"Evidence about the question, for every model"). With MiniLM the floors still decide.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from indexer.embedders import rescale

CENTRE_MEMBERS = 20  # vectors a collection needs before its centre is a background
# Above the centre: a document by 0.1 (the largest margin that held expert MAP on both
# android dev splits with e5); a short text read as a query (a skill name, a question
# met by another question) by 0.2: e5 puts SQL and Java at 0.47-0.57 of "GDPR", where
# the skills' centre is 0.40, and "on-call handbook" at 0.44-0.46 of "pricing".
DOCUMENT_MARGIN = 0.1
SHORT_TEXT_MARGIN = 0.2


def centre(vectors: Sequence[np.ndarray] | np.ndarray, dim: int) -> np.ndarray:
    """The mean of unit vectors. Of fewer than ``CENTRE_MEMBERS`` the mean is mostly its
    members' own subjects, no background: a zero vector then (the floors alone hold)."""
    if len(vectors) < CENTRE_MEMBERS:
        return np.zeros(dim, np.float32)
    return np.mean(np.vstack(list(vectors)), axis=0).astype(np.float32)


def lines(floor: float, margin: float, middle: np.ndarray, queries: np.ndarray,
          cosine_floor: float) -> np.ndarray:
    """The cosine (common scale) each query (a row of ``queries``, or one vector) needs:
    ``floor``, and ``margin`` above its cosine to ``middle`` (a ``centre``)."""
    background = np.asarray(rescale(np.asarray(queries) @ middle, cosine_floor), np.float64)
    return np.maximum(floor, background + margin)  # in float64: a floor stays exact
