"""A document's language: the record's own when it gives one, else detected, else None.

The detector is built once per process (about 0.5 s, every language's models loaded)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from indexer import language
from indexer.language import detect_language
from ingest.documents import parse_document
from ingest.readers import html, markdown, text

PARAGRAPHS = {
    "de": "Die Tourenplanung berechnet jede Nacht die Routen unserer Lieferwagen. Dabei "
          "werden Zeitfenster der Kunden, die Ladekapazität und die Arbeitszeiten der "
          "Fahrer berücksichtigt, damit möglichst wenige Kilometer gefahren werden.",
    "pt": "O relatório trimestral mostra que as vendas cresceram no Brasil e em Portugal. "
          "A equipe de operações recomenda revisar os contratos com os fornecedores antes "
          "do fim do ano, porque os preços de transporte aumentaram bastante.",
    "zh": "车辆路线优化方法可以显著降低物流成本。我们的调度系统每天晚上根据客户的时间窗口、"
          "车辆的装载能力和司机的工作时间重新计算所有配送路线。",
    "ar": "يعرض هذا التقرير نتائج المبيعات في الربع الأخير من السنة. ارتفعت المبيعات في "
          "جميع المناطق، ويوصي فريق العمليات بمراجعة العقود مع الموردين قبل نهاية العام.",
    "en": "The route planner computes the routes of our delivery vans every night, taking "
          "the customers' time windows, the load capacity and the drivers' hours into "
          "account so that as few kilometres as possible are driven.",
}


@pytest.mark.parametrize("code", sorted(PARAGRAPHS))
def test_a_paragraph_is_told_its_language(code):
    assert detect_language(PARAGRAPHS[code]) == code


@pytest.mark.parametrize("short", ["Kafka retention policy", "kafka consumer lag", "", "42",
                                   "kafka pentest secret appendix"])  # French at 0.92
def test_a_short_text_that_could_be_several_languages_gets_no_guess(short):
    assert detect_language(short) is None


def test_a_short_text_is_guessed_when_its_language_is_beyond_doubt():
    """The rule is lingua's confidence, not a length (module docstring)."""
    assert detect_language("Die neue Tourenplanung") == "de"


def test_a_mixed_document_is_the_language_of_most_of_its_letters():
    english, chinese = PARAGRAPHS["en"], PARAGRAPHS["zh"]
    assert detect_language(f"{english}\n{english}\n{chinese}") == "en"
    assert detect_language(f"{chinese}\n{chinese}\n{chinese}\n{english}") == "zh"


def test_only_the_head_is_read():
    copies = language.HEAD_CHARS // len(PARAGRAPHS["de"]) + 1
    body = "\n".join([PARAGRAPHS["de"]] * copies + [PARAGRAPHS["en"]] * 3 * copies)
    assert detect_language(body) == "de"  # most of it is English, after the head


def test_a_record_s_own_language_wins_over_detection():
    record = {"id": "a", "body": PARAGRAPHS["de"], "language": "EN"}
    assert parse_document(record, None, None).language == "en"
    assert parse_document({"id": "b", "body": PARAGRAPHS["de"], "lang": "de-AT"},
                          None, None).language == "de-at"


def test_a_record_without_a_language_is_detected_or_none():
    assert parse_document({"id": "a", "body": PARAGRAPHS["pt"]}, None, None).language == "pt"
    assert parse_document({"id": "b", "body": "Kafka retention policy"},
                          None, None).language is None


def test_files_give_their_language_or_have_it_detected(tmp_path: Path):
    (tmp_path / "a.md").write_text(f"---\nlanguage: pt\n---\n{PARAGRAPHS['de']}\n")
    (tmp_path / "b.html").write_text(f'<html lang="de"><body><p>{PARAGRAPHS["en"]}</p>'
                                     "</body></html>")
    (tmp_path / "c.txt").write_text(PARAGRAPHS["ar"])
    (tmp_path / "d.md").write_text(PARAGRAPHS["zh"])
    assert markdown.read(tmp_path / "a.md", "a").documents[0].language == "pt"
    assert html.read(tmp_path / "b.html", "b").documents[0].language == "de"
    assert text.read(tmp_path / "c.txt", "c").documents[0].language == "ar"
    assert markdown.read(tmp_path / "d.md", "d").documents[0].language == "zh"


class SlowBuilder:
    """Stands in for lingua's builder: slow enough that unguarded threads would each build."""

    @classmethod
    def from_all_languages_without(cls, *left_out: object) -> SlowBuilder:
        time.sleep(0.05)
        return cls()

    def with_low_accuracy_mode(self) -> SlowBuilder:
        return self

    def with_preloaded_language_models(self) -> SlowBuilder:
        return self

    def build(self) -> object:
        return object()


def test_threads_share_one_detector(monkeypatch):
    monkeypatch.setattr(language, "_detector", None)
    monkeypatch.setattr(language, "LanguageDetectorBuilder", SlowBuilder)
    found: list[object] = []
    threads = [threading.Thread(target=lambda: found.append(language.detector()))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == 8 and len({id(d) for d in found}) == 1
