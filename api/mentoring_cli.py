"""The ``whoknows mentors``, ``whoknows match`` and ``whoknows mentoring ...`` commands
(registered in api/cli.py).

Examples::

    whoknows mentors p-nina-kowalski --cross-functional --max-tz-hours 3
    whoknows mentors p-ingrid-halvorsen --mode reverse --json
    whoknows match cohort.yaml            # the body of POST /api/mentoring/match
    whoknows mentoring relationships --stalled-days 30
    whoknows mentoring report --department Engineering --since 2026-01-01 --csv
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from api.mentoring_schemas import MatchIn
from api.routes.mentoring import run_match
from api.runtime import Runtime
from api.settings import Settings
from indexer.errors import IngestError, InvalidQuery, NotFound
from ingest.readers.base import load_yaml
from search.mentoring import relationships as rel
from search.mentoring.mentors import MentorCatalog, find_mentors
from search.mentoring.report import MIN_GROUP, programme_report, report_csv
from search.mentoring.rules import Options

out = Console(soft_wrap=True)
DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Data folder (default: $WHOKNOWS_DATA_DIR or ./whoknows-data).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _catalog(data_dir: Path | None) -> MentorCatalog:
    runtime = Runtime.open(Settings.from_env().with_overrides(data_dir))
    return MentorCatalog(runtime.store, runtime.embedder)


def mentors_command(
    employee_id: Annotated[str, typer.Argument(help="The employee's id.")],
    mode: Annotated[str, typer.Option(help="standard, reverse or group.")] = "standard",
    cross_functional: Annotated[bool, typer.Option(
        "--cross-functional", help="Mentors from another department only.")] = False,
    min_gap: Annotated[float | None, typer.Option(
        "--min-gap", help="Years of seniority the mentor has more, at least (reverse: fewer).")
    ] = None,
    max_gap: Annotated[float | None, typer.Option("--max-gap", help="... at most.")] = None,
    shared_language: Annotated[bool, typer.Option(
        "--shared-language", help="Mentors who share a language.")] = False,
    max_tz_hours: Annotated[float | None, typer.Option(
        "--max-tz-hours", help="Time zones at most this many hours apart.")] = None,
    same_location: Annotated[bool, typer.Option(
        "--same-location", help="Mentors in the same location.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many mentors.")] = 5,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Mentors for an employee, best fit first, each with the goals they cover and how."""
    if not 1 <= limit <= 100:
        raise InvalidQuery(f"--limit must be between 1 and 100, got {limit}")
    options = Options(mode, cross_functional, min_gap, max_gap, shared_language,
                      max_tz_hours, same_location)
    catalog = _catalog(data_dir)
    people = catalog.people()
    if employee_id not in people:
        raise NotFound(f"no employee with id {employee_id!r}",
                       "find ids with `whoknows experts TOPIC`")
    result = find_mentors(catalog, people[employee_id], options, None, limit, people)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    topics = ", ".join(f"{t['topic']} ({t['kind']})" for t in result["topics"])
    out.print(f"[bold]Mentors for {escape(employee_id)}[/bold] · mode {result['mode']} · "
              f"topics: {escape(topics) or '-'}")
    for i, m in enumerate(result["mentors"], start=1):
        where = " · ".join(x for x in (m["title"], m["department"], m["location"]) if x)
        out.print(f"{i:>2}. [bold]{escape(m['name'])}[/bold] ({escape(m['id'])}) "
                  f"{escape(where)} · fit {m['fit']:.2f}")
        out.print(f"    {escape(m['why'])}")
        if m.get("group"):
            members = ", ".join(g["id"] for g in m["group"]["members"]) or "nobody else yet"
            out.print(f"    group of {m['group']['size']}: {escape(members)}")
    if result["note"]:
        out.print(escape(result["note"]))


def match_command(
    file: Annotated[Path, typer.Argument(help="JSON or YAML: the body of POST "
                                               "/api/mentoring/match.")],
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Match a cohort of mentees to mentors in one global assignment, with reasons."""
    body = read_match_file(file)
    result = run_match(body, _catalog(data_dir), None)
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    _print_match(result)


def read_match_file(path: Path) -> MatchIn:
    if not path.is_file():
        raise InvalidQuery(f"no match file {path}")
    text = path.read_text()
    try:  # the one safe YAML loader of ingest: no aliases (no "billion laughs"), bounded
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = (load_yaml(text) or [None])[0]
    except (json.JSONDecodeError, IngestError, RecursionError) as exc:
        raise InvalidQuery(f"{path} is not valid JSON or YAML", str(exc)[:300]) from exc
    try:
        return MatchIn.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors()[:10])
        raise InvalidQuery(f"{path} is not a valid match request", problems) from exc


def _print_match(result: dict[str, Any]) -> None:
    s = result["summary"]
    out.print(f"[bold]{s['matched']} of {s['mentees']} mentees matched[/bold] "
              f"({result['objective']}, {s['places']} places, total fit {s['total_fit']:.2f}, "
              f"mean {s['mean_fit']:.2f})")
    for p in result["pairs"]:
        out.print(f"  {escape(p['mentee'])} → [bold]{escape(p['mentor'])}[/bold] "
                  f"fit {p['fit']:.2f}: {escape(p['why'])}")
    for u in result["unmatched"]:
        out.print(f"  [yellow]{escape(u['mentee'])} unmatched[/yellow] ({u['reason']}): "
                  f"{escape(u['detail'])}")


mentoring_app = typer.Typer(help="Mentoring relationships and the programme report.",
                            no_args_is_help=True)
ADMIN = rel.Actor("admin")  # the CLI runs on the data folder: it is the admin


@mentoring_app.command("relationships")
def relationships_command(
    state: Annotated[str | None, typer.Option(help="proposed, active, completed, declined "
                                                  "or ended.")] = None,
    person: Annotated[str | None, typer.Option(help="As mentor or mentee.")] = None,
    stalled_days: Annotated[int | None, typer.Option(
        "--stalled-days", help="Only active ones with no check-in for this many days.")
    ] = None,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """Mentoring relationships, newest first (stalled ones with --stalled-days)."""
    store = _catalog(data_dir).store
    found = rel.listing(store, store.get_people(), ADMIN, state, person, stalled_days)
    if as_json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return
    for r in found:
        quiet = f" · quiet since {r['quiet_since']}" if r["quiet_since"] else ""
        out.print(f"{escape(r['id'])}  {r['state']:<9} {r['mode']:<10} "
                  f"{escape(r['mentor'])} → {escape(', '.join(r['mentees']))}{quiet}")
    if not found:
        out.print("no relationships")


@mentoring_app.command("report")
def report_command(
    department: Annotated[str | None, typer.Option(help="A member works here.")] = None,
    location: Annotated[str | None, typer.Option(help="A member works here.")] = None,
    since: Annotated[str | None, typer.Option(help="Created on or after, YYYY-MM-DD.")
                     ] = None,
    until: Annotated[str | None, typer.Option(help="Created on or before, YYYY-MM-DD.")
                     ] = None,
    stalled_days: Annotated[int, typer.Option(
        "--stalled-days", help="Quiet this long counts as stalled.")] = rel.STALLED_DAYS,
    min_group: Annotated[int, typer.Option(
        "--min-group", min=MIN_GROUP, help="Figures only for at least this many.")
    ] = MIN_GROUP,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    data_dir: DataDir = None,
    as_json: AsJson = False,
) -> None:
    """The programme report for L&D, in aggregates: the same as GET /api/mentoring/report."""
    store = _catalog(data_dir).store
    found = programme_report(store, store.get_people(), department, location, since, until,
                             stalled_days, min_group)
    if as_csv:
        print(report_csv(found), end="")
    elif as_json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        for line in report_csv(found).splitlines()[1:]:
            section, name, value = line.split(",", 2)
            out.print(f"{section}{'.' + name if name else ''}: {escape(value) or '-'}")
