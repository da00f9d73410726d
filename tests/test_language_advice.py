"""A folder whose model reads English only is told when it holds other languages, and
how to move it (`whoknows reembed e5-int8`); a multilingual model, or a stray passage
taken for another language, is told nothing."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import write
from typer.testing import CliRunner

from api.cli import app
from indexer.embedders import HashingEmbedder
from indexer.language_advice import language_advice
from indexer.records import Chunk, Document
from indexer.store import Store

ENGLISH_MODEL = SimpleNamespace(name="all-MiniLM-L6-v2/onnx-int8", dim=4, english_only=True)
MULTILINGUAL_MODEL = SimpleNamespace(name="multilingual-e5-small/onnx-int8", dim=4)


def folder(languages: dict[str | None, int]) -> Store:
    store = Store.memory()
    for language, n in languages.items():
        for i in range(n):
            doc_id = f"{language}-{i}"
            store.write_document(Document(id=doc_id, title=doc_id, body="x", language=language),
                                 [Chunk(doc_id, 0, "x")], np.zeros((1, 4), np.float32))
    return store


def test_an_english_model_over_other_languages_is_told_how_to_move():
    advice = language_advice(folder({"en": 90, "de": 6, "pt": 4, None: 5}), ENGLISH_MODEL)
    assert advice is not None
    assert advice.others == {"de": 6, "pt": 4} and advice.share == pytest.approx(10 / 105)
    message = advice.message("/srv/whoknows-data")
    assert "9.5% of the passages" in message and "(de 6, pt 4)" in message
    assert "all-MiniLM-L6-v2/onnx-int8" in message
    assert message.endswith("whoknows reembed e5-int8 --data-dir /srv/whoknows-data")


@pytest.mark.parametrize(("languages", "model"), [
    ({"en": 90, "de": 10}, MULTILINGUAL_MODEL),  # reads them already
    ({"en": 2000, "nl": 1, "lt": 1}, ENGLISH_MODEL),  # stray guesses, as in the android set
    ({"en": 1000, "fr": 4, "de": 4}, ENGLISH_MODEL),  # a few titles, as in DBLP: under 1%
    ({"en": 3, "de": 2}, ENGLISH_MODEL),  # under five passages
    ({None: 50}, ENGLISH_MODEL),  # nothing told
])
def test_nothing_to_tell(languages, model):
    assert language_advice(folder(languages), model) is None


def test_status_and_ingest_tell_it(tmp_path, monkeypatch):
    monkeypatch.setenv("WHOKNOWS_EMBEDDER", "hashing-2048")
    monkeypatch.setenv("WHOKNOWS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(HashingEmbedder, "english_only", True, raising=False)
    root = tmp_path / "corpus"
    write(root, "en.md", "# Route planning\n\nThe planner computes the delivery routes every "
          "night from the orders of the day.\n")
    for i in range(5):
        write(root, f"de-{i}.md", f"# Tourenplanung {i}\n\nDie Tourenplanung berechnet jede "
              "Nacht die Routen der Lieferwagen aus den Bestellungen des Tages.\n")
    runner = CliRunner()
    ingested = runner.invoke(app, ["ingest", str(root)])
    assert ingested.exit_code == 0, ingested.output
    assert "whoknows reembed e5-int8 --data-dir" in ingested.output
    status = json.loads(runner.invoke(app, ["status", "--json"]).output)
    assert status["languages"] == {"de": 5, "en": 1}
    assert "(de 5)" in status["advice"]
    monkeypatch.setattr(HashingEmbedder, "english_only", False)
    assert json.loads(runner.invoke(app, ["status", "--json"]).output)["advice"] is None
