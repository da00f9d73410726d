"""Language detection at ingest (indexer/language.py) on MLQA-R and SciFact.

    python bench/language_detection.py              # the product's rule
    python bench/language_detection.py --compare    # lingua's modes and thresholds

Prints, for MLQA-R's paragraphs and questions (7 languages) and SciFact's titles and
abstracts (English, scientific): how often a guess is right, how often there is none,
per language, and the time per text; the detector's load time and the memory it adds. ``--compare``
adds lingua alone on whole texts, low and high accuracy mode, over a range of confidence
thresholds (the figures behind the chosen ones). Writes
bench/results/language-detection.json.
"""

from __future__ import annotations

import argparse
import resource
import time
from collections import Counter

from common import BENCH_DATA, read_jsonl, write_results

from indexer import language

THRESHOLDS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.99)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def score(rows: list[dict], guesses: list[str | None]) -> dict:
    """Right share of the guesses, share with no guess, overall and per language."""
    def figures(pairs: list[tuple[str, str | None]]) -> dict:
        guessed = [(want, got) for want, got in pairs if got is not None]
        right = sum(want == got for want, got in guessed)
        return {"texts": len(pairs), "right_of_guessed": right / max(len(guessed), 1),
                "no_guess": 1 - len(guessed) / max(len(pairs), 1)}
    pairs = [(r["metadata"]["language"], g) for r, g in zip(rows, guesses, strict=True)]
    languages = sorted({want for want, _ in pairs})
    return figures(pairs) | {"per_language": {
        x: figures([p for p in pairs if p[0] == x]) for x in languages}}


def product(sets: dict[str, list[dict]]) -> dict:
    before, started = rss_mb(), time.perf_counter()
    language.detector()
    language.detect_language("Die Tourenplanung berechnet jede Nacht die Routen.")
    results: dict = {"load_s_first_latin_text": time.perf_counter() - started}
    for name, rows in sets.items():
        started = time.perf_counter()
        guesses = [language.detect_language(r["text"]) for r in rows]
        took = (time.perf_counter() - started) / len(rows)
        results[name] = score(rows, guesses) | {"ms_per_text": 1000 * took}
        wrong = Counter((r["metadata"]["language"], g) for r, g in zip(rows, guesses,
                                                                       strict=True)
                        if g is not None and g != r["metadata"]["language"])
        print(f"{name:16} right {results[name]['right_of_guessed']:.2%} of guessed, "
              f"no guess {results[name]['no_guess']:.2%}, {1000 * took:.2f} ms/text; "
              f"most often wrong: {wrong.most_common(4)}")
        print("   " + "  ".join(f"{x} {f['right_of_guessed']:.1%}/{f['no_guess']:.1%}"
                                for x, f in results[name]["per_language"].items()))
    results["rss_added_mb"] = rss_mb() - before
    print(f"load {results['load_s_first_latin_text']:.2f} s (first Latin text); "
          f"memory added {results['rss_added_mb']:.0f} MB")
    return results


def compare(sets: dict[str, list[dict]]) -> dict:
    from lingua import LanguageDetectorBuilder

    results: dict = {}
    for mode in ("low", "high"):
        builder = (LanguageDetectorBuilder.from_all_languages_without(*language.LEFT_OUT)
                   .with_preloaded_language_models())
        if mode == "low":
            builder = builder.with_low_accuracy_mode()
        started = time.perf_counter()
        detector = builder.build()
        results[mode] = {"load_s_all_preloaded": time.perf_counter() - started,
                         "max_rss_mb_after": rss_mb()}
        for name, rows in sets.items():
            started = time.perf_counter()
            found = [detector.compute_language_confidence_values(
                r["text"][:language.HEAD_CHARS])[0] for r in rows]
            took = (time.perf_counter() - started) / len(rows)
            results[mode][name] = {"ms_per_text": 1000 * took}
            for threshold in THRESHOLDS:
                guesses = [f.language.iso_code_639_1.name.lower() if f.value >= threshold
                           else None for f in found]
                figures = score(rows, guesses)
                del figures["per_language"]
                results[mode][name][str(threshold)] = figures
                print(f"lingua {mode:4} {name:16} confidence >= {threshold:.2f}: right "
                      f"{figures['right_of_guessed']:.2%} of guessed, no guess "
                      f"{figures['no_guess']:.2%}, {1000 * took:.2f} ms/text")
        print(f"lingua {mode}: {results[mode]['load_s_all_preloaded']:.1f} s to load every "
              f"model, process at most {results[mode]['max_rss_mb_after']:.0f} MB")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--compare", action="store_true")
    args = parser.parse_args()
    data = BENCH_DATA / "mlqa-r"
    scifact = list(read_jsonl(BENCH_DATA / "scifact" / "corpus.jsonl"))
    sets = {"paragraphs": list(read_jsonl(data / "corpus.jsonl")),
            "questions": list(read_jsonl(data / "queries.jsonl")),
            **{f"scifact_{field}s": [{"text": d[field], "metadata": {"language": "en"}}
                                    for d in scifact] for field in ("title", "text")}}
    results = {"product": product(sets)}
    if args.compare:
        results["lingua"] = compare(sets)
    print("wrote", write_results("language-detection", results))


if __name__ == "__main__":
    main()
