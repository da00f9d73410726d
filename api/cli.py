"""The ``whoknows`` command line: ingest, search, experts, reindex, status.

Examples::

    whoknows ingest corpus/                 # documents, lessons and people
    whoknows search "kafka retention" --kind lesson
    whoknows experts "who knows about route optimization?" --json
    whoknows search --queries queries.jsonl  # one JSON object per line
    whoknows mentors p-nina-kowalski --cross-functional
    whoknows match cohort.yaml               # see docs/mentoring.md
    whoknows migrate --to postgresql://whoknows@db/whoknows   # the store, copied
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.learning_cli import analytics_app, profile_app
from api.mentoring_cli import match_command, mentoring_app, mentors_command
from api.runtime import Runtime
from api.settings import Settings
from indexer.copying import CopyReport, copy_store
from indexer.embedders import MODELS, Embedder, kind_of, make_embedder
from indexer.errors import InvalidQuery, NotFound, WhoknowsError
from indexer.indexes import DerivedIndexes
from indexer.language_advice import (
    MULTILINGUAL_EMBEDDER,
    LanguageAdvice,
    language_advice,
    moves_itself,
)
from indexer.records import Filters
from indexer.store import DB_NAME, Store
from ingest.exports import SOURCES
from ingest.hr import read_map as read_people_map
from ingest.pipeline import Ingester, IngestReport, following_the_model
from ingest.reembed import Reembedder, ReembedReport
from ingest.reembed import unfinished as unfinished_reembed
from search.answers import people_know
from search.filters import check_filters, one_of

app = typer.Typer(help="whoknows: what do we know about X, and who knows about X?",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@app.callback()
def _store(database_url: Annotated[str | None, typer.Option(
        "--database-url", metavar="URL",
        help="A PostgreSQL store shared by machines (postgresql://user@host/db; default: "
             "$WHOKNOWS_DATABASE_URL, else the data folder's own SQLite file). Give it "
             "before the command: whoknows --database-url URL serve.")] = None) -> None:
    if database_url:  # every command reads its settings from the environment
        os.environ["WHOKNOWS_DATABASE_URL"] = database_url

DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Data folder (default: $WHOKNOWS_DATA_DIR or ./whoknows-data).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Limit = Annotated[int, typer.Option("--limit", "-n", help="How many results.")]
Kind = Annotated[list[str] | None, typer.Option("--kind", help="article or lesson (repeatable).")]
Tag = Annotated[list[str] | None, typer.Option("--tag", help="Only documents with this tag.")]
Department = Annotated[list[str] | None, typer.Option("--department", help="Authors' department.")]
Language = Annotated[list[str] | None, typer.Option("--language", help="Language code, e.g. en.")]
Location = Annotated[list[str] | None, typer.Option(
    "--location", help="Only people in this location (documents have none).")]
After = Annotated[str | None, typer.Option("--updated-after", help="YYYY-MM-DD")]
Before = Annotated[str | None, typer.Option("--updated-before", help="YYYY-MM-DD")]
Queries = Annotated[Path | None, typer.Option(
    "--queries", help='JSON lines {"id", "text"} (a line may also set this command\'s '
                      'options, e.g. "kind", "limit"): answer each, one JSON object per line.')]

# Besides id and text, a batch line may set any option of the command it runs under
# (named as the options, with _ for -), for that line only.
LIST_FIELDS = ("kind", "tag", "department", "location", "language")
DATE_FIELDS = ("updated_after", "updated_before")


def _runtime(data_dir: Path | None) -> Runtime:
    return Runtime.open(Settings.from_env().with_overrides(data_dir))


@app.command()
def ingest(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files and folders to ingest.")] = None,
    people: Annotated[list[Path] | None, typer.Option(
        "--people", help="A file (or folder) of person records.")] = None,
    sync: Annotated[bool, typer.Option(
        "--sync", help="Remove what came from these folders and is gone now.")] = False,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Fail, writing nothing, if any file or record is bad.")] = False,
    source: Annotated[str | None, typer.Option(
        "--source", help="The team tool whose export the folders are, when their layout "
                         "does not tell: " + ", ".join(SOURCES) + ".")] = None,
    people_map: Annotated[Path | None, typer.Option(
        "--people-map", exists=True, dir_okay=False,
        help="YAML naming the columns of a people CSV that are not recognised, "
             "e.g. 'email: Work Mail'.")] = None,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="List every author who matched no person.")] = False,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Ingest documents, lessons learned and people; unchanged content is not embedded again."""
    if not paths and not people:
        raise InvalidQuery("nothing to ingest",
                           "give files or folders, e.g. whoknows ingest corpus/")
    if source is not None and source not in SOURCES:
        raise InvalidQuery(f"no source {source!r}",
                           f"use one of {', '.join(sorted(SOURCES))}")
    runtime = _runtime(data_dir)
    passages_before = sum(runtime.store.passages_by_language().values())
    mapping = read_people_map(people_map) if people_map else None

    def follow_model() -> Embedder:  # a re-embed elsewhere switched the folder
        runtime.follow_model()
        return runtime.embedder

    with _progress(runtime.embedder, "reading", quiet=as_json) as progress:
        def run(model: Embedder) -> IngestReport:
            ingester = Ingester(runtime.store, model, people_map=mapping)
            return ingester.ingest(paths or [], people or [], sync=sync, strict=strict,
                                   progress=progress, source=source)

        report = following_the_model(run, runtime.embedder, follow_model)
        progress(0, 0, "indexing vectors and keywords")
        runtime.refresh_indexes()
    if verbose:
        report.unmatched_authors = runtime.store.unmatched_authors(limit=1000)
    advice = language_advice(runtime.store, runtime.embedder)
    if not as_json:
        _print_report(report, verbose)
    moved = None
    unfinished = unfinished_reembed(runtime.store)
    interrupted = bool(unfinished) and kind_of(str(unfinished["to"])) == MULTILINGUAL_EMBEDDER
    if moves_itself(advice, runtime.settings.embedder is not None, passages_before,
                    interrupted):
        moved = _move_to_multilingual(runtime, None if interrupted else advice, as_json)
        advice = language_advice(runtime.store, runtime.embedder) if moved is None else None
    if as_json:
        out.print_json(json.dumps({**report.to_dict(), "advice": _advice_text(advice, runtime),
                                   "reembedded": moved.to_dict() if moved else None}))
    elif advice is not None:
        err.print(f"[yellow]{escape(_advice_text(advice, runtime))}[/yellow]")


def _move_to_multilingual(runtime: Runtime, advice: LanguageAdvice | None,
                          as_json: bool) -> ReembedReport | None:
    """A new folder found multilingual moves itself (indexer.language_advice.moves_itself;
    ``advice`` None: it finishes a move that was cut short): the report of the re-embed,
    or None when it could not (the folder keeps its model, nothing is lost, the next
    ingest finishes the move, and the advice says how to move it by hand)."""
    target = make_embedder(MULTILINGUAL_EMBEDDER, cache_dir=runtime.settings.data_dir / "models")
    if advice is None:
        told = f"finishing this folder's move to {target.name}, which was interrupted"
    else:
        told = (f"{advice.share:.1%} of the passages are in other languages than English: "
                f"this new folder moves to {target.name}, which reads about 100 languages "
                "(set WHOKNOWS_EMBEDDER to choose the model yourself). The first time, "
                "the model is exported once into the folder (about a minute).")
    if not as_json:
        err.print(told)
    try:
        report = _reembed(runtime.settings, runtime.store, target, as_json)
    except Exception as failure:  # noqa: BLE001 -- the folder stays as it was: say why
        err.print(f"[yellow]could not move the folder to {target.name}: "
                  f"{escape(str(failure))}[/yellow]")
        return None
    runtime.embedder = target
    if not as_json:
        out.print(f"re-embedded {report.passages} passages and {report.people} people with "
                  f"{report.embedder} in {report.seconds:.1f} s")
    return report


def _reembed(settings: Settings, store: Store, target: Embedder,
             as_json: bool) -> ReembedReport:
    """Re-embed ``store`` with ``target`` (progress on a terminal) and index it."""
    with _progress(target, "re-embedding", quiet=as_json) as progress:
        report = Reembedder(store, target).run(progress)
        progress(0, 0, "indexing vectors and keywords")
        Runtime(settings, store, target).refresh_indexes()
    return report


def _advice_text(advice: LanguageAdvice | None, runtime: Runtime) -> str | None:
    return None if advice is None else advice.message(str(runtime.settings.data_dir))


@contextlib.contextmanager
def _progress(embedder: Embedder | None, first: str, quiet: bool
              ) -> Iterator[Callable[[int, int, str], None]]:
    """A progress bar on a terminal (none with --json): the model loads first (the first
    time in a data folder it is exported and quantised), if there is one, then ``first``.
    The callback takes (done, total, what); a total of 0 shows only what."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True,
                  disable=quiet or not err.is_terminal) as bar:
        task = bar.add_task("loading the model" if embedder else first, total=None)
        warm = getattr(embedder, "warm_up", None)
        if warm:
            warm()
        bar.update(task, description=first)

        def progress(done: int, total: int, what: str) -> None:
            if total:
                bar.update(task, completed=done, total=total, description=what)
            else:
                bar.update(task, description=what)

        yield progress


def _print_report(report: IngestReport, verbose: bool = False) -> None:
    out.print(f"documents: {report.documents.summary()}")
    out.print(f"people:    {report.people.summary()}")
    out.print(f"failed:    {len(report.failed)}")
    for problem in report.failed:
        out.print(f"  [red]✗[/red] {escape(str(problem))}")
    if report.merged_accounts:
        out.print(f"accounts:  {report.merged_accounts} tool accounts in the store are people "
                  f"of the people files (same email or alias)")
    count, top = report.unmatched_authors
    if count:
        def named(author: str, documents: int, ambiguous: bool) -> str:
            return f"{author!r} ×{documents}" + (" (several people)" if ambiguous else "")
        shown = top if verbose else top[:3]
        more = "" if verbose else " (--verbose lists them)"
        out.print(escape(f"authors:   {count} author{'s' if count != 1 else ''} in the "
                         f"store matched no person "
                         f"(top: {', '.join(named(*t) for t in shown)}){more}"))
    seconds = report.timings
    rate = (f" ({report.chunks_embedded / seconds['embed']:.0f}/s while embedding)"
            if seconds["embed"] > 0 and report.chunks_embedded else "")
    out.print(f"passages embedded: {report.chunks_embedded}{rate}; "
              f"{seconds['total']:.1f} s in all")


@app.command()
def search(
    query: Annotated[str | None, typer.Argument(help="What you are looking for.")] = None,
    limit: Limit = 10,
    offset: Annotated[int, typer.Option(help="Skip this many articles (paging).")] = 0,
    experts: Annotated[int, typer.Option("--experts", help="How many experts to suggest.")] = 5,
    kind: Kind = None, tag: Tag = None, department: Department = None,
    location: Location = None, language: Language = None,
    updated_after: After = None, updated_before: Before = None,
    queries: Queries = None, data_dir: DataDir = None, as_json: AsJson = False,
) -> None:
    """Articles and lessons for a query, with the people who know about it."""
    _run(query, queries, data_dir, as_json, dict(
        limit=limit, offset=offset, experts=experts, kind=kind, tag=tag,
        department=department, location=location, language=language,
        updated_after=updated_after, updated_before=updated_before), articles=True)


@app.command(name="experts")
def experts_command(
    query: Annotated[str | None, typer.Argument(help="The topic.")] = None,
    limit: Limit = 10,
    kind: Kind = None, tag: Tag = None, department: Department = None,
    location: Location = None, language: Language = None,
    updated_after: After = None, updated_before: Before = None,
    queries: Queries = None, data_dir: DataDir = None, as_json: AsJson = False,
) -> None:
    """People who know about a topic, each with the evidence and skills that explain why."""
    _run(query, queries, data_dir, as_json, dict(
        limit=limit, kind=kind, tag=tag, department=department, location=location,
        language=language, updated_after=updated_after, updated_before=updated_before),
        articles=False)


def _run(query: str | None, queries: Path | None, data_dir: Path | None, as_json: bool,
         options: dict[str, Any], articles: bool) -> None:
    """Answer the query, or each line of ``queries``; every line's options are checked
    (fields, dates, filter values) before the first answer is printed."""
    if queries is None and query is None:
        raise InvalidQuery("the query is empty", "give a query, or --queries FILE")
    lines = ([(0, "", query or "", options)] if queries is None
             else _read_queries(queries, options))
    asked = []
    for number, query_id, text, line_options in lines:
        with _on_line(queries, number):
            asked.append((number, query_id, text, _answer_options(line_options, articles)))
    runtime = _runtime(data_dir)
    for number, _, _, answer_options in asked:
        with _on_line(queries, number):
            check_filters(runtime.store, answer_options["filters"])
    answerer = runtime.answerer()
    if queries is not None:
        for _, query_id, text, answer_options in asked:
            result = answerer.answer(text, **answer_options)
            print(json.dumps({"query_id": query_id, **result}, ensure_ascii=False), flush=True)
        return
    result = answerer.answer(query or "", **asked[0][3])
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_answer(result)


def _read_queries(path: Path, options: dict[str, Any]
                  ) -> list[tuple[int, str, str, dict[str, Any]]]:
    """(line number, id, text, the options for that line) for each line of ``path``."""
    if not path.is_file():
        raise InvalidQuery(f"no queries file {path}")
    allowed = ["id", "text", *options]
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            query_id, text = str(record["id"]), str(record["text"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InvalidQuery(f"{path}, line {number}: expected a JSON object with id and "
                               "text", f"found {line[:80]!r}") from exc
        unknown = [name for name in record if name not in allowed]
        if unknown:
            raise InvalidQuery(f"{path}, line {number}: unknown field {unknown[0]!r}",
                               f"use one of {one_of(allowed)}")
        fields = {k: _field(k, v, number, path) for k, v in record.items() if k in options}
        found.append((number, query_id, text, {**options, **fields}))
    return found


def _field(name: str, value: Any, number: int, path: Path) -> Any:
    """A batch line's value for option ``name``, in the type the option takes."""
    if name in LIST_FIELDS:
        values = [value] if isinstance(value, str) else value
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            return values
        wanted = "a string or a list of strings"
    elif name in DATE_FIELDS:
        if value is None or isinstance(value, str):
            return value
        wanted = "a date written YYYY-MM-DD"
    else:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        wanted = "a whole number"
    raise InvalidQuery(f"{path}, line {number}: {name} must be {wanted}, got {value!r}")


@contextlib.contextmanager
def _on_line(path: Path | None, number: int) -> Iterator[None]:
    """An error about a batch line's options names the line."""
    try:
        yield
    except InvalidQuery as exc:
        if path is None:
            raise
        raise InvalidQuery(f"{path}, line {number}: {exc.message}", exc.hint) from exc


def _answer_options(options: dict[str, Any], articles: bool) -> dict[str, Any]:
    """What ``Answerer.answer`` takes for the command's options."""
    numbers = {k: options[k] for k in ("limit", "offset", "experts") if k in options}
    return {**numbers, "articles": articles, "filters": _filters(
        options["kind"], options["tag"], options["department"], options["location"],
        options["language"], options["updated_after"], options["updated_before"])}


def _filters(kind: list[str] | None, tag: list[str] | None, department: list[str] | None,
             location: list[str] | None, language: list[str] | None,
             after: str | None, before: str | None) -> Filters:
    for name, value in (("--updated-after", after), ("--updated-before", before)):
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError as exc:
                raise InvalidQuery(f"{name} must be a date like 2025-01-31, got {value!r}") from exc
    return Filters(kinds=tuple(kind or ()), tags=tuple(tag or ()),
                   departments=tuple(department or ()), locations=tuple(location or ()),
                   languages=tuple(language or ()), updated_after=after, updated_before=before)


def _print_answer(result: dict[str, Any]) -> None:
    if result.get("corrected_query"):
        out.print(f"Showing results for [bold]{escape(result['corrected_query'])}[/bold] "
                  f"(put a word in double quotes to search it as typed)")
    if result.get("weak_match") and (result["articles"] or result["experts"]):
        out.print("[yellow]Nothing found is clearly about this query; the documents found "
                  "only share words with it or touch on it.[/yellow]")
    if result["articles"]:
        out.print(f"[bold]Articles[/bold] for {escape(result['query'])!r}")
        for i, a in enumerate(result["articles"], start=1):
            date = f" · {a['updated_at']}" if a.get("updated_at") else ""
            out.print(f"{i:>2}. [bold]{escape(a['title'])}[/bold] [{a['kind']}]{date} "
                      f"score {a['score']:.3f}")
            out.print(f"    {_highlight(a['snippet'], a['highlights'])}")
            out.print(f"    [dim]{escape(a['id'])}  {escape(a.get('source') or '')}[/dim]")
    elif "total_articles" in result:
        out.print("No articles matched. Try other words or fewer filters.")
    if result["experts"]:
        heading = "People who know" if people_know(result) else "People nearest to it"
        out.print(f"\n[bold]{heading}[/bold]")
        for i, e in enumerate(result["experts"], start=1):
            where = " · ".join(x for x in (e.get("title"), e.get("department"),
                                           e.get("location")) if x)
            mentor = " · [green]available as mentor[/green]" if e["mentoring_available"] else ""
            out.print(f"{i:>2}. [bold]{escape(e['name'])}[/bold] ({escape(e['id'])}) "
                      f"{escape(where)}{mentor}")
            out.print(f"    {escape(e['why'])}")
            for ev in e["evidence"]:
                out.print(f"    - {escape(ev['title'])} [{ev['kind']}]")
    elif not result["articles"]:
        out.print("Nobody matched. Try a broader topic.")


def _highlight(snippet: str, spans: list) -> str:
    parts, at = [], 0
    for start, end in spans:
        parts += [escape(snippet[at:start]), f"[bold yellow]{escape(snippet[start:end])}[/]"]
        at = end
    return "".join(parts) + escape(snippet[at:])


@app.command()
def reindex(data_dir: DataDir = None) -> None:
    """Rebuild the vector index from the stored vectors (nothing is embedded again)."""
    runtime = _runtime(data_dir)
    indexes = runtime.reindex()
    out.print(f"rebuilt the vector and keyword indexes: {len(indexes.vectors)} passages")


@app.command()
def reembed(
    embedder: Annotated[str, typer.Argument(
        help="The model to move to: " + ", ".join(MODELS) + ".")],
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Move the data folder to another embedding model, in place: every document is cut
    and embedded again from its stored text (no source file is read) and every profile
    too, with progress. Searches keep the old vectors until the switch; an interrupted
    run resumes where it stopped."""
    settings = Settings.from_env().with_overrides(data_dir)
    store = settings.open_store()
    target = make_embedder(embedder, cache_dir=settings.data_dir / "models")
    report = _reembed(settings, store, target, as_json)
    if as_json:
        print(json.dumps(report.to_dict()))
    elif report.previous == report.embedder:
        out.print(f"this data folder already uses {report.embedder}: nothing to do")
    else:
        resumed = f", {report.resumed} from the interrupted run" if report.resumed else ""
        out.print(f"re-embedded {report.documents} documents ({report.passages} passages) "
                  f"and {report.people} people with {report.embedder}{resumed} "
                  f"in {report.seconds:.1f} s; it was {report.previous}")


@app.command()
def migrate(
    to: Annotated[str, typer.Option(
        "--to", metavar="TARGET",
        help="Where the store goes: a PostgreSQL URL (postgresql://user@host/db, an empty "
             "database) or a folder (empty, or new).")],
    batch: Annotated[int, typer.Option("--batch", min=1, help="Rows per commit.")] = 1000,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Copy the whole store (the data folder's, or that of --database-url) into TARGET:
    every table, the vectors as they are (nothing is embedded again). A copy that was
    interrupted resumes where it stopped when run again."""
    settings = Settings.from_env().with_overrides(data_dir)
    if not settings.database_url and not (settings.data_dir / DB_NAME).exists():
        raise NotFound(f"no store in {settings.data_dir}",
                       "give the data folder with --data-dir, or the database with "
                       "whoknows --database-url URL migrate ...")
    source = settings.open_store()
    done: set[str] = set()

    def report_table(copied: int, total: int, table: str) -> None:
        progress(copied, total, f"copying {table}")
        if copied >= total and table not in done and not as_json:
            done.add(table)
            out.print(f"  {table:<24} {copied:>9} of {total} rows")

    if not as_json:
        out.print(f"copying {source.where} into {to}")
    with _progress(None, "copying", quiet=as_json) as progress:
        report = copy_store(source, to, report_table, batch=batch)
    _print_copy(report, as_json)


def _print_copy(report: CopyReport, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict()))
        return
    before = sum(t.before for t in report.tables)
    resumed = f" ({before} copied by the interrupted run before)" if report.resumed else ""
    rate = (report.rows - before) / report.seconds if report.seconds else 0
    out.print(f"copied {report.rows} rows in {len(report.tables)} tables{resumed} in "
              f"{report.seconds:.1f} s ({rate:.0f} rows/s) to {report.target}")


@app.command()
def status(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """What the data folder holds, with which model, and how far its indexes and an
    interrupted re-embed have come."""
    runtime = _runtime(data_dir)
    store = runtime.store
    saved = DerivedIndexes.saved_generation(runtime.settings.data_dir)
    languages = store.passages_by_language()
    info = {"data_dir": str(runtime.settings.data_dir), "store": store.backend,
            "database": store.where if store.backend != "sqlite" else None,
            "embedder": store.get_meta("embedder"), "dim": store.get_meta("dim"),
            "documents": store.count("documents"), "passages": store.count("chunks"),
            "people": store.count("people"), "generation": store.generation,
            "indexes_generation": saved,  # of the saved files; None: not saved yet
            "indexes_behind": None if saved is None else store.generation - saved,
            # an interrupted `whoknows reembed`, to run again: {"to", "done", "of"}
            "reembedding": unfinished_reembed(store),
            # passages per document language ("unknown": not told), the most first
            "languages": {language or "unknown": n for language, n in languages.items()},
            "advice": _advice_text(language_advice(store, runtime.embedder, languages),
                                   runtime)}
    if as_json:
        print(json.dumps(info))
    else:
        advice = info.pop("advice")
        width = max(map(len, info))
        for key, value in info.items():
            out.print(f"{key:>{width}}: {value}")
        if advice is not None:
            err.print(f"[yellow]{escape(advice)}[/yellow]")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    reindex_root: Annotated[list[Path] | None, typer.Option(
        "--reindex-root", exists=True, file_okay=False, resolve_path=True,
        help="A folder POST /api/admin/reindex may read, with its subfolders (repeatable; "
             "adds to $WHOKNOWS_REINDEX_ROOTS). None: the server reads no folder.")] = None,
    workers: Annotated[int, typer.Option(
        min=1, help="Server processes. Each keeps its own copy of the indexes in memory "
                    "and answers searches on its own core: on a machine of N cores, N "
                    "processes serve about N times the searches of one.")] = 1,
    data_dir: DataDir = None,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    from dataclasses import replace

    import uvicorn

    from api.app import BIND_HOST_ENV, create_app
    from api.deps import LOOPBACK
    from api.runtime import SERVING_THREADS
    from indexer.keys import KeyRing

    settings = Settings.from_env().with_overrides(data_dir)
    roots = tuple(dict.fromkeys([*settings.reindex_roots, *(reindex_root or ())]))
    runtime = Runtime.open(replace(settings, reindex_roots=roots), threads=SERVING_THREADS)
    if not KeyRing(runtime.store).active():
        if host not in LOOPBACK:
            err.print(f"no API keys configured: binding 127.0.0.1 instead of {host}")
            host = "127.0.0.1"
        err.print("[yellow]running open (no API keys): anyone on this machine can read "
                  "everything; add keys with `whoknows keys add --role reader`[/yellow]")
    if workers == 1:
        uvicorn.run(create_app(runtime=runtime, bind_host=host), host=host, port=port,
                    log_level="info")
        return
    # Several processes: each builds its app from the environment (api.app.app_from_env).
    os.environ.update({**runtime.settings.to_env(), BIND_HOST_ENV: host})
    _serve_processes(uvicorn.Config("api.app:app_from_env", factory=True, workers=workers,
                                    host=host, port=port, log_level="info"))


def _serve_processes(config: Any) -> None:
    """uvicorn's own multi-process run, with the listening socket marked as TCP.

    uvicorn 0.54 binds it with ``proto`` 0; accepted connections inherit that, and
    asyncio then leaves Nagle's algorithm on, so each keep-alive request after the
    first waits ~40 ms for a delayed ACK (uvicorn issue #3149). Re-wrapping the same
    descriptor with IPPROTO_TCP lets asyncio set TCP_NODELAY as for one process.
    """
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[tcp_listener(config)]).run()


def tcp_listener(config: Any) -> Any:
    """The listening socket uvicorn binds for ``config``, marked IPPROTO_TCP."""
    import socket

    bound = config.bind_socket()
    if bound.family in (socket.AF_INET, socket.AF_INET6):
        return socket.socket(bound.family, bound.type, socket.IPPROTO_TCP,
                             fileno=bound.detach())
    return bound


@app.command()
def worker(
    workers: Annotated[int, typer.Option(help="Jobs run at once in this process.")] = 1,
    stale_after: Annotated[float | None, typer.Option(
        help="Seconds without a heartbeat after which a running job counts as abandoned "
             "(default: $WHOKNOWS_JOB_STALE_AFTER_S or 30).")] = None,
    threads: Annotated[int | None, typer.Option(
        min=1, help="The model's threads (default: $WHOKNOWS_MODEL_THREADS, else one per "
                    "core). Several workers on one machine: one each.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Run background jobs (ingest, re-index) from the queue: SQLite, or Redis when
    WHOKNOWS_REDIS_URL is set, so several workers on several machines share the work.
    It also puts back on the queue the jobs of workers that stopped, whenever they stop."""
    from dataclasses import replace

    from api.queue import Queue

    settings = Settings.from_env().with_overrides(data_dir)
    if stale_after is not None:
        settings = replace(settings, job_stale_after_s=stale_after)
    if threads is not None:
        settings = replace(settings, model_threads=threads)
    runtime = Runtime.open(settings)
    queue = Queue.create(settings)
    reclaimed = queue.recover(runtime.store, starting=True)
    for state, what in (("queued", "re-queued"), ("dead", "gave up on")):
        count = sum(1 for s in reclaimed.values() if s == state)
        if count:
            err.print(f"{what} {count} job(s) left unfinished by a stopped worker")
    queue.recover_periodically()
    err.print(f"worker waiting for jobs ({'redis' if settings.redis_url else 'sqlite'} queue)")
    queue.consumer(workers).run()


@app.command()
def jobs(
    state: Annotated[str | None, typer.Option(
        help="Only jobs in this state: queued, running, done, failed or dead.")] = None,
    limit: Limit = 50,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """The latest jobs, newest first, with their state, attempts, worker and first error."""
    from dataclasses import asdict

    from indexer.jobs import JobStore

    store = Settings.from_env().with_overrides(data_dir).open_store()
    found = JobStore(store).recent(limit, state)
    if as_json:
        print(json.dumps([asdict(j) for j in found]))
        return
    for j in found:
        reason = j.errors[0]["reason"] if j.state in ("failed", "dead") and j.errors else ""
        out.print(f"{j.id}  {j.kind:<8} {j.state:<8} {j.done}/{j.total}  attempts={j.attempts}"
                  f"  {j.worker or '-'}  {j.created_at}  {escape(reason)}")


app.command(name="mentors")(mentors_command)
app.command(name="match")(match_command)
app.add_typer(mentoring_app, name="mentoring")
app.add_typer(analytics_app, name="analytics")
app.add_typer(profile_app, name="profile")

keys_app = typer.Typer(help="API keys: add, list, revoke.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("add")
def keys_add(
    role: Annotated[str, typer.Option(help="reader, lms or admin.")],
    groups: Annotated[str, typer.Option(help="Document groups it may read: a,b")] = "",
    name: Annotated[str | None, typer.Option(help="Who or what uses it.")] = None,
    person: Annotated[str | None, typer.Option(
        help="The person the key stands for (a member of their own mentoring).")] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a key; it is printed once and stored hashed."""
    from indexer.keys import KeyRing

    key, secret = KeyRing(_runtime(data_dir).store).add(
        role, tuple(g.strip() for g in groups.split(",") if g.strip()), name, person)
    err.print(f"created key {key.id} ({key.role}); keep it now, it is not shown again:")
    print(secret)


@keys_app.command("list")
def keys_list(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """The keys, without their secrets."""
    from dataclasses import asdict

    from indexer.keys import KeyRing

    keys = KeyRing(_runtime(data_dir).store).list()
    if as_json:
        print(json.dumps([asdict(k) for k in keys]))
        return
    for k in keys:
        state = "revoked" if k.revoked else "active"
        out.print(f"{k.id}  {k.role:<6} {state:<7} groups={','.join(k.groups) or '-'}  "
                  f"{escape(k.name or '')}  {k.created_at}")


@keys_app.command("revoke")
def keys_revoke(key_id: str, data_dir: DataDir = None) -> None:
    """Revoke a key by its id."""
    from indexer.keys import KeyRing

    KeyRing(_runtime(data_dir).store).revoke(key_id)
    out.print(f"revoked {key_id}")


def main() -> None:
    try:
        app()
    except WhoknowsError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}")
        if exc.hint:
            err.print(f"[dim]hint:[/dim] {escape(exc.hint)}")
        sys.exit(2)


if __name__ == "__main__":
    main()
