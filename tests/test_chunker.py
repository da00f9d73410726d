import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunker import split_chunks


def words_of(text, spans):
    return [w for s in spans for w in text[s.start:s.end].split()]


def test_short_text_is_one_passage():
    text = "Kafka retention for audit topics is seven years."
    spans = split_chunks(text)
    assert [(s.start, s.end) for s in spans] == [(0, len(text))]


def test_empty_text_has_no_passages():
    assert split_chunks("  \n\n ") == []


def test_long_text_is_cut_at_paragraphs_with_overlap():
    para = " ".join(f"w{i}" for i in range(50)) + "."
    text = "\n\n".join([para] * 6)  # 300 words in 6 paragraphs of 50
    spans = split_chunks(text, max_words=120, overlap=20, min_words=40)
    counts = [len(text[s.start:s.end].split()) for s in spans]
    assert all(c <= 120 for c in counts)
    # Paragraph ends at 50 and 100 words: the first cut is after 100 words.
    assert counts[0] == 100
    # The next passage starts 20 words back (overlap), so it shares words with the first.
    assert spans[1].start < spans[0].end


def test_a_section_start_is_preferred_and_not_overlapped():
    first = " ".join(f"a{i}" for i in range(90)) + "."
    second = " ".join(f"b{i}" for i in range(90)) + "."
    text = f"# One\n\n{first}\n\n## Two\n\n{second}"
    spans = split_chunks(text, max_words=120, overlap=20, min_words=40)
    assert text[spans[1].start:].startswith("## Two")
    assert "b0" not in text[spans[0].start:spans[0].end]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abc .\n#", min_size=0, max_size=40), max_size=60),
       st.integers(10, 80), st.integers(0, 9))
def test_passages_cover_every_word_in_order(parts, max_words, overlap):
    text = " ".join(parts)
    spans = split_chunks(text, max_words=max_words, overlap=overlap, min_words=5)
    # Every word of the text is in some passage; passages advance; none exceeds the size.
    covered = set()
    for s in spans:
        covered |= {m.start() + s.start for m in re.finditer(r"\S+", text[s.start:s.end])}
        assert len(text[s.start:s.end].split()) <= max_words
    assert {m.start() for m in re.finditer(r"\S+", text)} <= covered
    assert all(a.start < b.start for a, b in zip(spans, spans[1:], strict=False))


def letter_costs(text, words):
    """A word costs one piece per started group of 3 characters (like a long word's pieces)."""
    return [-(-(end - start) // 3) for start, end in words]


def test_a_token_budget_cuts_passages_of_costly_words_sooner():
    para = " ".join(["abcdefghi"] * 40) + "."  # 40 words of cost 3 (the last one 4)
    text = "\n\n".join([para] * 3)
    by_words = split_chunks(text, max_words=120, overlap=0, min_words=20)
    by_cost = split_chunks(text, max_words=120, overlap=0, min_words=20,
                           word_costs=letter_costs, budget=100)
    assert len(by_words) == 1  # 120 words fit the word limit
    # 100 pieces hold 33 words of cost 3 (a paragraph's last word costs 4), and no
    # paragraph end lies 20..33 words into a passage, so each cut is at the budget.
    assert [len(text[s.start:s.end].split()) for s in by_cost] == [33, 33, 33, 21]


def test_a_word_over_the_budget_gets_a_passage_of_its_own():
    text = "short " + "x" * 60 + " tail words here"
    spans = split_chunks(text, max_words=50, overlap=0, min_words=1,
                         word_costs=letter_costs, budget=10)
    assert [text[s.start:s.end] for s in spans] == ["short", "x" * 60, "tail words here"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abcdefgh .\n#", min_size=0, max_size=40), max_size=60),
       st.integers(4, 40), st.integers(0, 9))
def test_no_passage_costs_more_than_the_budget(parts, budget, overlap):
    text = " ".join(parts)
    spans = split_chunks(text, max_words=80, overlap=overlap, min_words=5,
                         word_costs=letter_costs, budget=budget)
    covered = set()
    for s in spans:
        words = [(m.start() + s.start, m.end() + s.start)
                 for m in re.finditer(r"\S+", text[s.start:s.end])]
        covered |= {start for start, _ in words}
        # Over budget only when the passage is a single word that alone is over.
        assert sum(letter_costs(text, words)) <= budget or len(words) == 1
    assert {m.start() for m in re.finditer(r"\S+", text)} <= covered
    assert all(a.start < b.start for a, b in zip(spans, spans[1:], strict=False))
