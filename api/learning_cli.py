"""The ``whoknows analytics`` and ``whoknows profile`` commands (registered in api/cli.py).

Examples::

    whoknows analytics searches --days 30      # top search topics and knowledge gaps
    whoknows analytics coverage --json         # topics with one or no active expert
    whoknows analytics network --by location
    whoknows analytics load
    whoknows profile show p-nina-kowalski      # inferred skills with their evidence
    whoknows profile choose p-nina-kowalski hide "excel"
    whoknows profile undo p-nina-kowalski hide "excel"
    whoknows profile opt-out p-nina-kowalski   # --back-in to undo
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from api import learning
from api.runtime import Runtime
from api.settings import Settings
from indexer.profiles import CHOICES, ProfileBook
from search.profile import profile_view

out = Console(soft_wrap=True)
DataDir = Annotated[Path | None, typer.Option(
    "--data-dir", help="Data folder (default: $WHOKNOWS_DATA_DIR or ./whoknows-data).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
Days = Annotated[int, typer.Option("--days", min=1, help="Searches of the last N days.")]

analytics_app = typer.Typer(help="Analytics for L&D and admins (aggregates only).",
                            no_args_is_help=True)
profile_app = typer.Typer(help="A person's profile: inferred skills and their choices.",
                          no_args_is_help=True)


def _runtime(data_dir: Path | None) -> Runtime:
    return Runtime.open(Settings.from_env().with_overrides(data_dir))


def _print(data: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            out.print(line)


@analytics_app.command("searches")
def searches(days: Days = 30, data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """What people search most, by topic, and the knowledge gaps (GET /api/analytics/searches)."""
    rt = _runtime(data_dir)
    report = learning.searches_report(rt.store, rt.settings, days)
    lines = [f"{report['searches']} searches in {days} days; topics asked by at least "
             f"{report['min_askers']} people:"]
    lines += [f"  {'GAP ' if t['gap'] else '    '}{escape(t['topic'])}: {t['searches']} "
              f"searches, {t['askers']} askers, {t['weak']} weak, {t['clicks']} opened, "
              f"{t['helped']} helped, {t['not_about']} not about it" for t in report["topics"]]
    _print(report, as_json, lines)


@analytics_app.command("load")
def load(days: Days = 30, data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Who is suggested how often (GET /api/analytics/load)."""
    report = learning.load_report(_runtime(data_dir).store, days)
    _print(report, as_json, [f"{p['suggested']:>5} suggested, {p['first']:>4} first  "
                             f"{escape(p['name'])} ({p['id']})" for p in report["people"]])


@analytics_app.command("coverage")
def coverage(data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Topics with one or no active expert, and authors who left (GET /api/analytics/coverage)."""
    rt = _runtime(data_dir)
    report = learning.coverage_report(rt.store, rt.settings, None)
    _print(report, as_json, [
        f"{t['risk']:<4} {escape(t['topic'])}: {t['active_experts']} active"
        + (f", {t['left']} left" if t["left"] else "")
        + (" ORPHANED" if t["orphaned"] else "")
        for t in report["topics"] if t["risk"] != "ok"])


@analytics_app.command("network")
def network(by: Annotated[str, typer.Option(help="department or location")] = "department",
            data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Departments or locations linked through shared topics (GET /api/analytics/network)."""
    if by not in ("department", "location"):
        raise typer.BadParameter("--by is department or location")
    report = learning.network_report(_runtime(data_dir).store, by, None)
    lines = [f"{len(report['groups'])} {by}s, density {report['density']}"]
    lines += [f"  {escape(link['a'])} - {escape(link['b'])}: {link['shared_topics']} topics"
              for link in report["links"]]
    lines += [f"  {y['year']}: density {y['density']}" for y in report["history"]]
    _print(report, as_json, lines)


@profile_app.command("show")
def show(person_id: str, data_dir: DataDir = None, as_json: AsJson = False) -> None:
    """Declared and inferred skills with their evidence, and the person's choices."""
    store = _runtime(data_dir).store
    view = profile_view(store, ProfileBook(store), store.get_person(person_id))
    lines = [f"[bold]{escape(view['name'])}[/bold]"
             + (" (opted out)" if view["opted_out"] else "")]
    lines += [f"  {s['state']:<9} {escape(s['name'])} ({s['source']}, "
              f"{s['evidence_count']} documents)" for s in view["skills"]]
    for kind in ("ask_me", "learn", "opted_out_topics"):
        if view[kind]:
            lines.append(f"  {kind}: {escape(', '.join(view[kind]))}")
    _print(view, as_json, lines)


@profile_app.command("choose")
def choose(person_id: str,
           kind: Annotated[str, typer.Argument(help=", ".join(CHOICES))],
           topic: str, level: Annotated[int, typer.Option(min=1, max=5)] = 3,
           data_dir: DataDir = None) -> None:
    """Confirm or hide a skill, add an ask-me or learn topic, opt out of a topic."""
    ProfileBook(_runtime(data_dir).store).choose(person_id, kind, topic, level)
    out.print(f"{person_id}: {kind} {escape(topic)}")


@profile_app.command("undo")
def undo(person_id: str, kind: str, topic: str, data_dir: DataDir = None) -> None:
    """Take a choice back."""
    ProfileBook(_runtime(data_dir).store).undo(person_id, kind, topic)
    out.print(f"{person_id}: no longer {kind} {escape(topic)}")


@profile_app.command("opt-out")
def opt_out(person_id: str, back_in: Annotated[bool, typer.Option(
                "--back-in", help="Opt back in.")] = False,
            data_dir: DataDir = None) -> None:
    """Never suggest or show this person anywhere (or, with --back-in, again)."""
    book = ProfileBook(_runtime(data_dir).store)
    if back_in != (not book.of(person_id).opted_out):
        (book.undo if back_in else book.choose)(person_id, "opt_out")
    out.print(f"{person_id}: {'shown again' if back_in else 'opted out'}")
