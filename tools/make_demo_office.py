#!/usr/bin/env python3
"""Generate the demo corpus's Office files and team-tool exports of Halden Logistics.

Writes, relative to the corpus folder (default corpus/):

- office/: two Word documents (python-docx), two PowerPoint decks (python-pptx), an
  Excel workbook (openpyxl) and an OpenDocument text (odfpy);
- exports/acme-slack/: a Slack workspace export (users.json, channels.json and a
  folder of daily YYYY-MM-DD.json message lists per channel);
- exports/acme-confluence/: a Confluence space HTML export (index.html, one file per
  page, styles/site.css and an attachment under attachments/<pageid>/).

Every author is a demo person of people/people.yaml, named as whoknows resolves it: the
Office files' core properties (dc:creator, meta:initial-creator) carry a display name
or an email exactly as people.yaml has it, Slack accounts their email
(profile.email), Confluence pages their creator's and last editor's display names.
The script refuses to write an author people.yaml does not know.

Output is reproducible: dates are fixed, nothing is random, the core properties are
set explicitly (openpyxl's save would stamp "modified" with today), and every zip
package is rewritten with its entries dated by the document's own date, so a re-run
gives byte-identical files. Run by hand; the output is committed.

Usage: python tools/make_demo_office.py [--corpus corpus]
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import shutil
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pptx
import yaml
from docx.shared import Pt
from odf import dc, meta
from odf import table as odftable
from odf import text as odftext
from odf.opendocument import OpenDocumentText
from odf.style import ParagraphProperties, Style, TableColumnProperties, TextProperties
from openpyxl.styles import Font, PatternFill
from openpyxl.writer.excel import ExcelWriter
from pptx.util import Pt as PptPt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.files import atomic_write  # noqa: E402

GENERATOR = "tools/make_demo_office.py"

# ---------------------------------------------------------------- people


class People:
    """The demo people by id, for names and emails exactly as people.yaml writes them."""

    def __init__(self, path: Path) -> None:
        records = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.by_id = {r["id"]: r for r in records if r.get("type", "person") == "person"}

    def get(self, person_id: str) -> dict[str, Any]:
        if person_id not in self.by_id:
            raise SystemExit(f"{person_id} is not in people.yaml: do not invent people")
        person = self.by_id[person_id]
        if person.get("visible") is False:
            raise SystemExit(f"{person_id} opted out of search: pick somebody else")
        return person

    def name(self, person_id: str) -> str:
        return str(self.get(person_id)["name"])

    def email(self, person_id: str) -> str:
        return str(self.get(person_id)["email"])

    def author(self, ref: tuple[str, str]) -> str:
        """``(person id, "name" | "email")`` as the author field names them."""
        person_id, by = ref
        return self.email(person_id) if by == "email" else self.name(person_id)


# ---------------------------------------------------------------- reproducible zips


def fix_zip(path: Path, when: dt.datetime) -> None:
    """Rewrite the zip package at ``path`` with every entry dated ``when`` (the libraries
    date them with the clock), keeping the entries' order and compression, so the same
    content makes the same bytes. OpenDocument's uncompressed ``mimetype`` stays first."""
    with zipfile.ZipFile(path) as package:
        entries = [(info, package.read(info)) for info in package.infolist()]
    stamp = when.timetuple()[:6]
    with atomic_write(path) as tmp, zipfile.ZipFile(tmp, "w") as package:
        for info, data in entries:
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = info.compress_type
            fixed.create_system = 3
            fixed.external_attr = 0o644 << 16
            package.writestr(fixed, data)


def at_nine(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=9)


# ---------------------------------------------------------------- Word

# Blocks, as in make_demo_pdfs.py: ("h1", text) ("h2", text) ("p", text) ("ul", [items])
# ("table", rows, header first)
WORD: list[dict[str, Any]] = [
    {
        "file": "carrier-rebooking-pilot-evaluation.docx",
        "title": "Carrier self-service rebooking: pilot evaluation",
        "author": ("p-liam-oconnor", "name"),
        "keywords": "ux-research, dock-scheduling, warehouse-management, pilot, carriers",
        "subject": "Research report - Product & Design",
        "date": "2024-08-05",
        "blocks": [
            ("h1", "Carrier self-service rebooking: pilot evaluation"),
            ("p", "Research report, UX Research, Product & Design. Fieldwork by Liam "
                  "O'Connor and Farah Siddiqui, June and July 2024. Internal."),
            ("h2", "Summary"),
            ("p", "The 2024 roadmap planned a drag-and-drop dock calendar for warehouse "
                  "managers. Discovery research (19 interviews, three night-shift "
                  "observations at four warehouses) showed that receiving clerks were not "
                  "slowed down by the calendar but by carriers phoning to move their "
                  "appointments: 26 calls per shift on average at the largest site. We "
                  "built a self-service rebooking link instead and piloted it at three "
                  "customer sites for four weeks. Rebooking calls fell by 61% across the "
                  "pilot sites, and no site reported double-booked doors."),
            ("h2", "What we built"),
            ("p", "Every appointment confirmation that Halden WMS sends to a carrier, by "
                  "email or SMS, now contains a rebooking link. The link opens a page "
                  "without login that shows the free dock slots of that site for the next "
                  "five days, filtered by the site's rules: door type, trailer length, "
                  "refrigerated doors, and the cut-off time after which only the receiving "
                  "clerk may change a booking (by default four hours before the slot). "
                  "The clerk sees every change in the dock view with a blue marker and the "
                  "carrier's reason. The feature took seven weeks from the first sketch to "
                  "the pilot release."),
            ("h2", "Pilot sites and results"),
            ("p", "Calls were counted by the clerks on a tally sheet for two weeks before "
                  "the pilot and in weeks three and four of the pilot; weeks one and two "
                  "were left out while carriers learned about the link."),
            ("table", [
                ["Site", "Docks", "Calls per shift before", "Calls per shift in pilot",
                 "Change"],
                ["Site A, grocery distribution centre", "14", "26", "9", "-65%"],
                ["Site B, pallet network hub", "9", "17", "7", "-59%"],
                ["Site C, contract logistics", "6", "11", "5", "-55%"],
                ["All pilot sites", "29", "54", "21", "-61%"],
            ]),
            ("h2", "Findings"),
            ("ul", [
                "Carriers used the link for 71% of all appointment changes by the fourth "
                "week. The large national carriers adopted it fastest; small hauliers "
                "kept calling, mostly because their drivers rebook from the cab and the "
                "confirmation email goes to the office.",
                "The remaining calls were mostly changes inside the four-hour cut-off. "
                "Two clerks asked for the cut-off to be configurable per door rather "
                "than per site.",
                "Clerks trusted the feature once they saw that a carrier could never "
                "take a slot that was blocked for cleaning or maintenance.",
                "Nobody asked for the drag-and-drop calendar during the pilot.",
            ]),
            ("h2", "Recommendations"),
            ("ul", [
                "Roll the rebooking link out to all WMS customers in Q4, on by default.",
                "Send the link by SMS to the driver's phone number when the booking has "
                "one, so that small hauliers rebook from the cab.",
                "Make the cut-off configurable per door type.",
                "Re-measure calls per shift at the three pilot sites in January, and "
                "keep the dock calendar out of the 2025 roadmap unless that "
                "measurement says otherwise.",
            ]),
        ],
    },
    {
        "file": "churn-review-h1-2025.docx",
        "title": "Churn review H1 2025: why customers left and what we changed",
        "author": ("p-kwame-asante", "name"),
        "keywords": "churn-analysis, customer-success, health-score, retention",
        "subject": "Analysis - Customer Success",
        "date": "2025-07-21",
        "blocks": [
            ("h1", "Churn review H1 2025"),
            ("p", "Analysis by Customer Success Analytics for the CS leadership team and "
                  "every CSM. Figures from Salesforce and the billing system as of 30 June "
                  "2025."),
            ("h2", "Summary"),
            ("p", "In the first half of 2025, 23 customers cancelled or did not renew, "
                  "with EUR 1.94M of ARR. Gross revenue retention over the trailing twelve "
                  "months rose from 90% to 91%. Two reasons explain more than half of the "
                  "lost ARR: the loss of an executive sponsor, and route plans that "
                  "dispatchers stopped trusting. Health score v2, live since November "
                  "2024, flagged 17 of the 23 accounts at least 90 days before the "
                  "cancellation; its predecessor would have flagged nine."),
            ("h2", "Why customers left"),
            ("p", "Each churned account was reviewed by its CSM and an analyst, and given "
                  "one primary reason. Where the exit interview and the CSM disagreed, the "
                  "exit interview wins."),
            ("table", [
                ["Primary reason", "Accounts", "ARR lost (EUR k)", "Share of lost ARR"],
                ["Executive sponsor left, no new sponsor", "6", "612", "32%"],
                ["Plans not trusted, dispatchers planned by hand", "5", "447", "23%"],
                ["Acquired by a company using a competitor", "3", "341", "18%"],
                ["Price after the move to per-shipment pricing", "4", "248", "13%"],
                ["Business closed or shrank", "5", "289", "15%"],
                ["Total", "23", "1,937", "100%"],
            ]),
            ("h2", "Sponsor loss is still the strongest signal"),
            ("p", "Six accounts lost the executive who bought Halden and nobody on our "
                  "side met the successor within the first month. Since version 2 of the "
                  "health score, a sponsor change recorded in Salesforce lowers the score "
                  "at once, and four of those six were flagged. The two that were missed "
                  "were changes nobody recorded: we found them through bounced emails "
                  "after the cancellation notice."),
            ("h2", "Plans that dispatchers stopped trusting"),
            ("p", "In all five accounts of the second group, the share of stops moved by "
                  "hand after planning had been above 20% for more than three months. "
                  "Three of them had never corrected the default service time of five "
                  "minutes for pallet deliveries, so every plan looked good at 06:00 and "
                  "fell apart by 10:00. This is an onboarding problem more than a solver "
                  "problem, and the routing team confirmed it: with corrected service "
                  "times, replayed plans for two of the accounts needed under 8% manual "
                  "moves."),
            ("h2", "What we changed"),
            ("ul", [
                "Manual edits above 20% of stops for four weeks now open a plan quality "
                "review with the routing support rotation, instead of only lowering the "
                "health score.",
                "Service times are checked against a week of proof-of-delivery "
                "timestamps in week three of every onboarding, not only at go-live.",
                "CSMs confirm the sponsor field in Salesforce every quarter; a field "
                "older than 120 days shows as a warning in the account view.",
                "For renewals with a price increase above 8%, the CSM books an "
                "executive business review 120 days before the renewal date.",
            ]),
            ("h2", "Health score v2 in numbers"),
            ("p", "Back-tested over H1 2025: precision 0.41 (17 of 41 flagged accounts "
                  "churned), recall 0.74 (17 of 23). Version 1 had precision 0.14 and "
                  "recall 0.39, mainly because it flagged seasonal customers in their "
                  "normal low season. We report both figures to the CS team every "
                  "quarter."),
        ],
    },
]


def build_word(spec: dict[str, Any], out: Path, people: People) -> Path:
    document = docx.Document()
    document.styles["Normal"].font.name = "Calibri"
    document.styles["Normal"].font.size = Pt(11)
    for kind, content in spec["blocks"]:
        if kind == "h1":
            document.add_heading(content, level=0)
        elif kind == "h2":
            document.add_heading(content, level=1)
        elif kind == "p":
            document.add_paragraph(content)
        elif kind == "ul":
            for item in content:
                document.add_paragraph(item, style="List Bullet")
        elif kind == "table":
            table = document.add_table(rows=len(content), cols=len(content[0]))
            table.style = "Light Grid Accent 1"
            for row, values in zip(table.rows, content, strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
        else:
            raise ValueError(kind)
    return save_ooxml(document, spec, people, out)


def save_ooxml(package: Any, spec: dict[str, Any], people: People, out: Path) -> Path:
    """Save a python-docx document or python-pptx deck with the spec's core properties
    and fixed timestamps (so a second run writes the same bytes)."""
    when = at_nine(spec["date"])
    props = package.core_properties
    props.title = spec["title"]
    props.author = people.author(spec["author"])
    props.last_modified_by = props.author
    props.keywords = spec["keywords"]
    props.subject = spec["subject"]
    props.comments = f"Generated by {GENERATOR}"
    props.created = props.modified = when
    props.revision = 1
    path = out / spec["file"]
    package.save(str(path))
    fix_zip(path, when)
    return path


# ---------------------------------------------------------------- PowerPoint

# Slides: title, bullets (a string, or (level, string) for a sub-bullet), speaker notes.
# The first slide is the title slide: its "bullets" are the subtitle's lines.
DECKS: list[dict[str, Any]] = [
    {
        "file": "route-optimization-101.pptx",
        "title": "Route optimization at Halden: how dispatchd plans routes",
        "author": ("p-jakob-fischer", "name"),
        "keywords": "route-optimization, vrp, operations-research, or-tools, training",
        "subject": "Training deck - Data & ML, optimisation squad",
        "date": "2025-09-16",
        "slides": [
            ("Route optimization at Halden", [
                "How dispatchd turns orders into routes",
                "Onboarding session for Customer Success, Sales and Support",
                "Jakob Fischer, optimisation squad, September 2025",
            ], "This is the 45-minute session we run every quarter for new colleagues in "
               "Customer Success, Sales and Support. The goal: after it, you can explain "
               "a route plan to a customer without calling the routing team. Ask questions "
               "at any time; the recording goes to the onboarding channel."),
            ("The problem: a rich vehicle routing problem", [
                "Assign orders to vehicles and put each vehicle's stops in order",
                "Hard constraints: capacity (weight, volume, pallet places), time windows, "
                "driver shifts and EU breaks, skills such as cooling or a tail lift",
                "Soft constraints: late arrival within a tolerance, preferred driver, "
                "balanced workload, local rules",
                "NP-hard: a typical customer has 60 vehicles and 1,800 stops",
                (1, "we look for a very good plan within a time budget, not the optimum"),
            ], "Customers often ask why we do not compute the optimal route. For 1,800 "
               "stops nobody can, in any amount of time that matters to a dispatcher. What "
               "we promise is a very good plan, measured against the best known solution "
               "of our benchmark: on average within about 2% of it."),
            ("Two modes, two time budgets", [
                "Overnight planning: starts at 01:00 local time, 90 seconds per depot, "
                "built from scratch",
                "Interactive replan: 8 seconds, starts from the current plan",
                (1, "completed stops and stops in progress are frozen"),
                (1, "moving a stop to another vehicle costs 300 seconds-equivalent: "
                    "drivers hate stops that jump between vans"),
                "Search effort in plan settings: fast, normal, thorough (Premium only)",
            ], "The stability cost is the answer to 'why did the replan not move this "
               "stop to the van that is closer?'. Moving it would save less than five "
               "minutes of driving, and we value a stable plan more than that."),
            ("How the solver searches", [
                "Construction: Clarke-Wright savings overnight, regret insertion for "
                "replans",
                "Improvement: guided local search in Google OR-Tools",
                "Our large neighbourhood search (LNS) on top: remove a geographic cluster "
                "of 10-30% of the stops, reinsert them with regret-3, repeat",
                "In replans, LNS runs only above 300 stops or when stops are unassigned",
                "2025 benchmark on 1,400 customer instances: 3.1% lower cost and 38% "
                "fewer unassigned stops than guided local search alone",
            ], "The benchmark whitepaper from June has the details per segment. Parcel "
               "delivery gains most (4%), pallet distribution least (1.2%), because those "
               "instances are small and limited by capacity. The removal step is written "
               "in Rust and takes about 40 ms per iteration on a 1,000-stop instance."),
            ("One currency: seconds-equivalent", [
                "Every cost is converted into seconds of driving so the solver can compare "
                "them",
                "1 second of driving = 1; 1 km = 25 by default (from fuel and wear, per "
                "tenant)",
                "An extra vehicle = 3,600; one minute of overtime = 90",
                "A penalty of 600 means: rather drive ten more minutes than stop here",
                "The weights are visible to the customer in plan settings",
            ], "When a customer says a plan 'does not feel right', the weights are the "
               "first thing to look at, before anyone touches the solver. A tenant with a "
               "low vehicle cost gets plans that spread stops over many vans; a high one "
               "consolidates routes and accepts longer days."),
            ("When a plan looks wrong, check the input first", [
                "Service times: the 5-minute default is wrong for pallet deliveries",
                "Time windows imported as 00:00-23:59 because the source had none",
                "Geocoding: a stop on the wrong side of the river adds 20 minutes",
                "In the dispatcher UI: 'Why unassigned?' and 'Why this vehicle?'",
                "Dispatchers can mark stops 'sequence fixed' when they know better",
            ], "The 2023 grocery pilot taught us this the hard way: the solver cut "
               "planned kilometres by 7.4% and drivers deviated from 38% of the routes, "
               "because it knew nothing about rear docks that close at 07:00. Since then "
               "we measure plan adherence, the share of stops moved by hand, next to cost. "
               "Above 15% the plan did not reflect reality."),
            ("Where to get help", [
                "#routing on Slack: questions answered by the routing team",
                "Office hours every Tuesday, 15:00 CET",
                "Articles: how route planning works in dispatchd; time windows and "
                "driver breaks; the 2025 solver benchmark",
                "For a deep dive: download plan.input.json and open it in the routing "
                "notebook template",
            ], "Please bring real plans to office hours: a screenshot and the plan id are "
               "enough. Most questions we get are answered by the unassigned-reason "
               "report or by the tenant's weights."),
        ],
    },
    {
        "file": "route-planner-onboarding-six-weeks.pptx",
        "title": "Route planner onboarding in six weeks: the plan for new tenants",
        "author": ("p-isabela-moreira", "email"),
        "keywords": "customer-onboarding, customer-success, time-to-value, route-planning",
        "subject": "Enablement deck - Customer Success",
        "date": "2025-05-20",
        "slides": [
            ("Route planner onboarding in six weeks", [
                "From signed contract to the first optimised route in production",
                "Enablement for CSMs and implementation managers, May 2025",
            ], "This deck is the short version of the onboarding playbook for route "
               "planner customers. It is used in the CSM enablement sessions and can be "
               "shown to customers at kickoff, except the last slide."),
            ("Why a fixed plan", [
                "2022: median of 94 days from contract to the first optimised route",
                "Every customer had a different plan; master data came by email",
                "2023: one fixed six-week plan, a go-live date agreed at kickoff and a "
                "named owner on the customer side",
                "Result: median of 41 days, and fewer escalations in the first 90 days",
            ], "The delay was never the technology. It was the lack of a committed date "
               "and of somebody on the customer side with time reserved for the project. "
               "When both sides agree the go-live date at kickoff, both sides plan for it."),
            ("The six weeks", [
                "Week 1: kickoff, success plan, go-live date, customer owner named",
                "Week 2: master data through validated import templates (addresses, "
                "time windows, fleet, drivers)",
                "Week 3: geocoding review; service times checked against a week of "
                "proof-of-delivery timestamps",
                "Week 4: shadow planning, the solver plans next to the dispatchers",
                "Week 5: dispatcher training, plan settings and weights",
                "Week 6: go-live, then four weeks of hypercare",
            ], "Shadow planning in week four is where most data problems surface: the "
               "dispatchers compare our plan with theirs stop by stop and tell us what "
               "the data does not say, such as a dock that closes early."),
            ("Data checks that save weeks", [
                "Time windows of 00:00-23:59 imported because the source had none",
                "The 5-minute service time default left in place for pallet deliveries",
                "Depot and stop time zones near a border",
                "The unassigned-reason report reviewed with every new tenant",
            ], "The solver's greedy fallback runs for about 3% of overnight plans, "
               "mostly for tenants in their first weeks. Reviewing the unassigned-reason "
               "report together with the customer turns those plans into a to-do list for "
               "their master data."),
            ("Weekly risk review", [
                "Every Thursday: all projects more than five days behind plan",
                "Risks recorded in Salesforce on the onboarding project, not in email",
                "Two weeks behind: the VP Customer Success joins the next customer call",
                "A slipping go-live date is renegotiated explicitly, never left to drift",
            ], "The review takes 30 minutes. The rule that matters: a project that is "
               "late gets help early. Most late projects are waiting for the customer's "
               "IT contact, and a call from our leadership to theirs fixes that faster "
               "than another reminder email."),
            ("What we measure", [
                "Days from contract to the first optimised route (target: 42)",
                "Share of stops moved by hand in the first month (target: under 15%)",
                "Weekly active dispatchers 60 days after go-live",
                "Customer satisfaction at the end of hypercare",
            ], "Internal slide, not for customers. The figures are on the onboarding "
               "dashboard, per CSM and per region, updated every Monday."),
        ],
    },
]


def build_deck(spec: dict[str, Any], out: Path, people: People) -> Path:
    deck = pptx.Presentation()
    for number, (title, bullets, notes) in enumerate(spec["slides"]):
        layout = deck.slide_layouts[0 if number == 0 else 1]
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        for index, bullet in enumerate(bullets):
            level, text = bullet if isinstance(bullet, tuple) else (0, bullet)
            paragraph = body.paragraphs[0] if index == 0 else body.add_paragraph()
            paragraph.text = text
            paragraph.level = level
            if number:
                paragraph.font.size = PptPt(18 if level == 0 else 16)
        slide.notes_slide.notes_text_frame.text = notes
    return save_ooxml(deck, spec, people, out)


# ---------------------------------------------------------------- Excel

ROTA: dict[str, Any] = {
    "file": "platform-oncall-rota-2026-q1.xlsx",
    "title": "Platform Engineering on-call rota and skills matrix, Q1 2026",
    "author": ("p-lukas-meier", "name"),
    "keywords": "on-call, incident-response, sre, rota, skills-matrix",
    "subject": "Rota - Platform Engineering",
    "date": "2025-12-09",
    "first_week": "2026-01-06",  # a Tuesday: rotations hand over on Tuesdays at 10:00
    # (primary, secondary, note) per week
    "weeks": [
        ("p-lukas-meier", "p-meiling-tan", "Holiday traffic tails off; handover note "
                                           "covers the December freeze"),
        ("p-amara-okafor", "p-daniel-cho", ""),
        ("p-meiling-tan", "p-diego-ramirez", ""),
        ("p-nina-kowalski", "p-lukas-meier", "Nina's first week as primary, paired with "
                                             "an experienced secondary"),
        ("p-kenji-watanabe", "p-amara-okafor", ""),
        ("p-daniel-cho", "p-sofia-marques", "Game day on Thursday (staging)"),
        ("p-diego-ramirez", "p-kenji-watanabe", "orders database minor upgrade, "
                                                "Saturday 05:00 CET"),
        ("p-sofia-marques", "p-nina-kowalski", ""),
        ("p-lukas-meier", "p-amara-okafor", "eks-prod-sin-1 upgrade window, Saturday"),
        ("p-amara-okafor", "p-meiling-tan", "Kafka client upgrade to halden-streams 5.0"),
        ("p-meiling-tan", "p-daniel-cho", ""),
        ("p-nina-kowalski", "p-diego-ramirez", ""),
        ("p-kenji-watanabe", "p-lukas-meier", "Quarter-end: ledger-sync lag pages at "
                                              "60 seconds"),
    ],
    "skills": ["Kafka", "Kubernetes", "Terraform", "Observability", "PostgreSQL",
               "Incident Response", "Go", "Rust", "Java"],
}


def rota_sheets(people: People) -> list[tuple[str, list[list[Any]]]]:
    """The rota and the skills matrix (levels from people.yaml: the team's visible
    people only, as whoknows shows them)."""
    start = dt.date.fromisoformat(ROTA["first_week"])
    rota: list[list[Any]] = [["Week starting (Tue 10:00)", "Primary", "Secondary",
                              "Primary location", "Notes"]]
    for week, (primary, secondary, note) in enumerate(ROTA["weeks"]):
        rota.append([start + dt.timedelta(weeks=week), people.name(primary),
                     people.name(secondary), people.get(primary)["location"], note])
    matrix: list[list[Any]] = [["Name", "Title", "Location", *ROTA["skills"]]]
    team = [p for p in people.by_id.values()
            if p["department"] == "Platform Engineering" and p.get("visible") is not False]
    for person in team:
        levels = {s["name"]: s.get("level") for s in person.get("skills", [])}
        matrix.append([person["name"], person["title"], person["location"],
                       *(levels.get(skill) for skill in ROTA["skills"])])
    matrix.append([])
    matrix.append(["Levels: 1 aware, 2 can follow a runbook, 3 works on it unaided, "
                   "4 the team asks them, 5 the company asks them. From the people "
                   "directory; update your own profile, not this sheet."])
    return [("Rota", rota), ("Skills matrix", matrix)]


def build_workbook(out: Path, people: People) -> Path:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    header = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="1F5FBF")
    for name, rows in rota_sheets(people):
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for cell in sheet[1]:
            cell.font, cell.fill = header, fill
        for column, width in zip("ABCDEFGHIJKL", (26, 22, 22, 14, 14, 14, 14, 14, 14, 14,
                                                  14, 14), strict=True):
            sheet.column_dimensions[column].width = width
        sheet.freeze_panes = "A2"
        for cell in sheet["A"][1:]:
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
    when = at_nine(ROTA["date"])
    props = workbook.properties
    props.title = ROTA["title"]
    props.creator = people.author(ROTA["author"])
    props.lastModifiedBy = props.creator
    props.keywords = ROTA["keywords"]
    props.subject = ROTA["subject"]
    props.created = props.modified = when
    path = out / ROTA["file"]
    # ExcelWriter, not Workbook.save: save stamps "modified" with the clock.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    fix_zip(path, when)
    return path


# ---------------------------------------------------------------- OpenDocument text

ODT: dict[str, Any] = {
    "file": "vendor-data-protection-review.odt",
    "title": "Vendor data-protection review: when you need one and how to request it",
    "author": ("p-beatriz-santos", "name"),
    "keywords": ["gdpr", "privacy", "vendor-management", "data-protection", "procurement"],
    "date": "2025-02-18",
    "blocks": [
        ("h1", "Vendor data-protection review"),
        ("p", "Procedure of the privacy team, Security. Owner: Data Protection Officer. "
              "Applies to every Halden Logistics entity and every team that buys or trials "
              "a tool."),
        ("h2", "When you need one"),
        ("p", "Any new tool or service that will store or process personal data needs a "
              "vendor data-protection review before the first real record goes into it. "
              "That includes free trials, browser extensions, AI assistants and tools paid "
              "by credit card. Personal data means anything about a person: names and "
              "emails of customer contacts, driver locations, candidate CVs, and the "
              "support tickets in which customers mention their staff."),
        ("p", "You do not need a review for a tool that only ever sees anonymised or "
              "aggregated data, or for a new module of a vendor that was reviewed in the "
              "last 24 months, provided the data categories do not change."),
        ("h2", "What to send"),
        ("p", "Open a request in the privacy tool, or write to privacy@halden.example if "
              "you cannot. Attach or link:"),
        ("ul", [
            "the vendor's name and the purpose: what problem the tool solves for whom;",
            "the categories of personal data and of people concerned (customers' "
            "contacts, drivers, employees, candidates);",
            "the vendor's data processing agreement (DPA) and its list of "
            "sub-processors;",
            "where the data is hosted and from where the vendor's support can reach it;",
            "how long the data will stay in the tool, following the retention schedule "
            "of the data retention policy.",
        ]),
        ("h2", "How we assess"),
        ("table", [
            ["Check", "What we look for"],
            ["DPA", "Article 28 terms, audit rights, breach notice within 48 hours"],
            ["Sub-processors", "named list, notice of changes, no surprise countries"],
            ["Transfers outside the EEA", "standard contractual clauses and a transfer "
                                          "impact assessment"],
            ["Security", "ISO 27001 or SOC 2 Type II report no older than 12 months"],
            ["Deletion", "data deleted or returned at contract end, on request sooner"],
            ["Access", "single sign-on and role-based access for our users"],
        ]),
        ("p", "Tools that handle driver locations, gate camera images or health data, or "
              "that take automated decisions about people, also need a DPIA screening; "
              "the DPIA guide explains when a full assessment follows."),
        ("h2", "How long it takes"),
        ("p", "Ten working days for a standard review, three for a low-risk tool (no "
              "special categories, hosted in the EEA, fewer than 500 people's data). The "
              "clock starts when the request is complete. Procurement will not sign a "
              "contract without a finished review, and finance will not pay an invoice "
              "for a tool that holds personal data without one."),
        ("h2", "After the review"),
        ("p", "The outcome is recorded in the records of processing with an owner and a "
              "retention period. The owner confirms once a year that the tool is still "
              "used as described. When a tool is retired, the owner asks the vendor for "
              "the deletion certificate and closes the record."),
    ],
}


def _odt_styles(document: OpenDocumentText) -> dict[str, Style]:
    styles = {}
    for level, size in ((1, "18pt"), (2, "14pt")):
        style = Style(name=f"Heading_20_{level}", displayname=f"Heading {level}",
                      family="paragraph", defaultoutlinelevel=str(level))
        style.addElement(TextProperties(fontsize=size, fontweight="bold"))
        style.addElement(ParagraphProperties(margintop="0.4cm", marginbottom="0.2cm"))
        document.styles.addElement(style)
        styles[f"h{level}"] = style
    body = Style(name="Text_20_body", displayname="Text body", family="paragraph")
    body.addElement(ParagraphProperties(marginbottom="0.2cm"))
    document.styles.addElement(body)
    styles["p"] = body
    column = Style(name="Column", family="table-column")
    column.addElement(TableColumnProperties(columnwidth="8cm"))
    document.automaticstyles.addElement(column)
    styles["column"] = column
    return styles


def build_odt(out: Path, people: People) -> Path:
    document = OpenDocumentText()
    styles = _odt_styles(document)
    when = at_nine(ODT["date"])
    author = people.author(ODT["author"])
    document.meta.addElement(dc.Title(text=ODT["title"]))
    document.meta.addElement(meta.InitialCreator(text=author))
    document.meta.addElement(dc.Creator(text=author))
    document.meta.addElement(meta.CreationDate(text=when.isoformat()))
    document.meta.addElement(dc.Date(text=when.isoformat()))
    for keyword in ODT["keywords"]:
        document.meta.addElement(meta.Keyword(text=keyword))
    for kind, content in ODT["blocks"]:
        if kind in ("h1", "h2"):
            level = int(kind[1])
            document.text.addElement(odftext.H(outlinelevel=level,
                                               stylename=styles[kind], text=content))
        elif kind == "p":
            document.text.addElement(odftext.P(stylename=styles["p"], text=content))
        elif kind == "ul":
            items = odftext.List()
            for item in content:
                entry = odftext.ListItem()
                entry.addElement(odftext.P(stylename=styles["p"], text=item))
                items.addElement(entry)
            document.text.addElement(items)
        elif kind == "table":
            grid = odftable.Table(name="Checks")
            grid.addElement(odftable.TableColumn(numbercolumnsrepeated=len(content[0]),
                                                 stylename=styles["column"]))
            for values in content:
                row = odftable.TableRow()
                for value in values:
                    cell = odftable.TableCell(valuetype="string")
                    cell.addElement(odftext.P(text=value))
                    row.addElement(cell)
                grid.addElement(row)
            document.text.addElement(grid)
        else:
            raise ValueError(kind)
    path = out / ODT["file"]
    document.save(str(path))
    fix_zip(path, when)
    return path


# ---------------------------------------------------------------- Slack

SLACK_TEAM = "T01HALDEN"
# account id -> (person id, Slack handle)
SLACK_USERS = {
    "U03A8K2MX": ("p-amara-okafor", "amara"),
    "U03B5N7QP": ("p-lucas-oliveira", "lucas.oliveira"),
    "U03C2R9TD": ("p-ahmed-hassan", "ahmed"),
    "U03D6W4LJ": ("p-grace-mwangi", "grace"),
    "U04E1H8ZK": ("p-jakob-fischer", "jakob"),
    "U04F9M3VB": ("p-ana-ferreira", "ana.ferreira"),
    "U04G7T5SC": ("p-ethan-brooks", "ethan"),
    "U05H2P6RN": ("p-emily-carter", "emily.carter"),
    "U05J8D1XW": ("p-marcus-johnson", "marcus"),
    "U05K4Q7FY": ("p-lukas-meier", "lukas"),
    "U06L3S9GA": ("p-tiago-almeida", "tiago"),
}
SLACK_CHANNELS = [
    {"id": "C04R7DPLT", "name": "data-platform", "created": "2021-02-01",
     "creator": "U03C2R9TD",
     "topic": "Pipelines, dbt, Airflow, the warehouse. Incidents go to #inc-*",
     "purpose": "Questions and announcements for the data platform"},
    {"id": "C04S2RTNG", "name": "routing", "created": "2021-06-14", "creator": "U04E1H8ZK",
     "topic": "Office hours: Tuesdays 15:00 CET",
     "purpose": "Route planning and the VRP solver: ask the routing team"},
    {"id": "C04T9HLPT", "name": "help-it", "created": "2020-11-03", "creator": "U05K4Q7FY",
     "topic": "Laptops, access, VPN, SSO. Suspicious email? Report it here",
     "purpose": "Ask for help with IT and access"},
]

# A thread: (channel, (day, "HH:MM" UTC), author, text, [replies]); a reply is
# ((day, "HH:MM"), author, text) and may fall on a later day than its parent. Times are
# UTC, within working hours where the people live (Lisbon, Berlin, Toronto, Austin).
# Daily files are named by the UTC day, as Slack's export does for a UTC workspace.
SLACK_THREADS: list[tuple[str, tuple[str, str], str, str, list[Any]]] = [
    ("data-platform", ("2025-05-12", "11:40"), "U03D6W4LJ", "<@U03D6W4LJ> has joined the "
     "channel", []),  # a join: written as subtype channel_join below
    ("data-platform", ("2025-05-12", "12:05"), "U03B5N7QP",
     "Kafka consumer lag on wh-loader (evt-eu1): 38 minutes behind and still growing\n"
     "The `wh-loader` consumer group, which loads `shipment.stop.status-changed.v3` into "
     "the warehouse, has been lagging since about 11:00 CET and `KafkaConsumerLagGrowing` "
     "has been firing all morning. We deployed a new version today that enriches every "
     "event with the tenant's depot from Postgres. Should I just scale the deployment "
     "from 12 to 24 pods?", [
         (("2025-05-12", "12:21"), "U03A8K2MX",
          "Don't double it yet, check which kind of lag you have first:\n"
          "1. On the Streaming / Consumer groups dashboard, pick `wh-loader` and look at "
          "the committed offset per partition. Flat on some partitions = stuck (poison "
          "message, rebalance loop, a dependency down). Moving everywhere but falling "
          "behind = slow.\n"
          "2. Look at the rebalance rate panel too. If one poll's batch takes longer than "
          "`max.poll.interval.ms` (5 minutes) the broker thinks the consumer died, the "
          "group rebalances and lag goes vertical; that was the yard-api projector last "
          "June.\n"
          "3. Your deploy added one Postgres lookup per record. With `max.poll.records` at "
          "200 that's 200 round trips per poll, and my bet is that this is the new "
          "bottleneck, not the consumer count.\n"
          "Runbook: <https://wiki.halden.example/display/PLAT/Kafka+consumer+lag|Kafka "
          "consumer lag runbook>"),
         (("2025-05-12", "12:34"), "U03B5N7QP",
          "Offsets move on all 48 partitions, no rebalances. Consume rate is about "
          "1,900/s, produce rate about 2,600/s at the moment. So slow, not stuck."),
         (("2025-05-12", "12:41"), "U03A8K2MX",
          "Then the lag will keep growing as long as produce is above consume: recovery "
          "time is lag in messages / (consume rate - produce rate), and that's negative "
          "right now. Two things:\n"
          "- Real fix: cache the tenant-to-depot mapping in the pod (it changes a few "
          "times a day) or do one `WHERE tenant_id = ANY(...)` query per batch instead of "
          "one per record. Keep the processing of a batch well under the poll interval.\n"
          "- To buy time until then, scaling to 24 is fine: the topic has 48 partitions, "
          "so every pod still gets two. Never go beyond the partition count, extra "
          "consumers just sit idle. And check for skew: if one partition is far behind "
          "the rest it's a single big tenant, and more pods won't help that partition.\n"
          "<@U03C2R9TD> owns the loader's Postgres replica, worth a heads-up before you "
          "double the connections."),
         (("2025-05-12", "12:55"), "U03C2R9TD",
          "Thanks for the ping. The replica has room for 24 pods with a pool of 5 "
          "connections each; please don't go above that."),
         (("2025-05-13", "13:12"), "U03A8K2MX",
          "Follow-up for the record: Lucas's batched lookup went out last night "
          "(wh-loader 2.14.1), the group caught up at 23:40 and time lag is back under 10 "
          "seconds. Consume rate is now around 6,000/s, so we scaled back to 12 pods. I "
          "added `wh-loader` to `alerts/consumer-groups.yaml` with a 15-minute "
          "threshold; the warehouse refresh is hourly anyway, so it doesn't need the "
          "5-minute default."),
     ]),
    ("data-platform", ("2025-05-13", "14:14"), "U03B5N7QP",
     "dbt question: `fct_dock_appointments` is incremental on `event_ts`. After the "
     "Porto tenant's EDI backlog last week, appointments from 5-7 May are missing from "
     "the mart. What's our convention for late-arriving data again?", [
         (("2025-05-13", "14:30"), "U03D6W4LJ",
          "Since the billing incident in March we never filter incremental models on "
          "event time. Filter on `_loaded_at` (ingestion time) and merge with a 7-day "
          "lookback: `incremental_strategy='merge'`, `unique_key='appointment_id'`, and "
          "`where _loaded_at > (select max(_loaded_at) from {{ this }}) - interval '7 "
          "days'`. For the gap you have now, `dbt run -s fct_dock_appointments "
          "--full-refresh` fixes it: about 40M rows, 12 minutes on the XL warehouse. "
          "Conventions are here: <https://wiki.halden.example/display/DATA/dbt+project+"
          "conventions|dbt project conventions>, section 4."),
         (("2025-05-13", "14:36"), "U03B5N7QP",
          "Perfect, full refresh is running and I'll switch the filter to `_loaded_at`."),
         (("2025-05-13", "14:41"), "U03D6W4LJ",
          "Also add it to the reconciliation test list, so the month-end run compares "
          "its row counts with the source. That's the test that would have caught March."),
     ]),
    ("data-platform", ("2025-05-14", "08:00"), "U03C2R9TD",
     "Heads-up: Airflow moves from 2.7 to 2.9 on Thursday 15 May, 07:00-08:00 CET. DAG "
     "runs scheduled in that hour start after the upgrade. Nothing to change in your DAGs "
     "unless you still import from `airflow.contrib`: run `make lint-dags` in the "
     "pipelines repo to check before Thursday.", []),
    ("routing", ("2025-06-03", "15:12"), "U05H2P6RN",
     "Why does tonight's plan send two vans down the same street 40 minutes apart?\n"
     "A grocery customer (Austin depot) asks why their plan does not let one van do both "
     "stops. Is that a bug?", [
         (("2025-06-03", "15:26"), "U04E1H8ZK",
          "Almost never a bug, usually one of three things:\n"
          "1. Time windows. If stop A is 08:00-09:00 and stop B 10:30-11:00 on the same "
          "street, one van would wait 90 minutes, which costs more than a small detour "
          "of a second van that passes anyway.\n"
          "2. Capacity. Check the pallet places: a full van can't take the second stop.\n"
          "3. Weights. If the tenant's vehicle cost is low (some have 900 instead of the "
          "default 3,600 seconds-equivalent), the solver happily spreads stops over more "
          "vans.\n"
          "Open the plan, select both stops and use 'Why this vehicle?': it shows the "
          "cost difference per constraint. If it's the weights, raising the vehicle cost "
          "in plan settings consolidates routes."),
         (("2025-06-03", "15:48"), "U05H2P6RN",
          "It was the windows: one of the two stops only receives 05:30-06:30 at the "
          "rear dock. Thanks, that's an easy explanation for the customer."),
         (("2025-06-03", "15:52"), "U04E1H8ZK",
          "If they want those stops on one vehicle anyway, their dispatchers can mark "
          "them 'sequence fixed'. That's what it was built for after the 2023 grocery "
          "pilot, where drivers knew things about docks that the data didn't."),
     ]),
    ("routing", ("2025-06-04", "13:03"), "U04G7T5SC",
     "For the Q3 roadmap review: what's a realistic replan budget if dispatchers can "
     "replan a whole depot at once (say 1,200 stops), not just insert new orders?", [
         (("2025-06-04", "13:40"), "U04F9M3VB",
          "With the 8-second interactive budget a full re-solve of 1,200 stops isn't "
          "realistic: guided local search barely gets past construction. From the 2025 "
          "benchmark, the cluster-removal LNS takes about 40 ms per iteration at 1,000 "
          "stops and needs a few hundred iterations to pay off, so 20-30 seconds gets "
          "within about 3% of the overnight plan. I'd propose a 'thorough replan' button "
          "with a 30-second budget and a progress bar, and keep the 8-second insert-only "
          "path as the default. <@U04E1H8ZK> can you check what it does to plan "
          "stability?"),
         (("2025-06-04", "14:15"), "U04E1H8ZK",
          "Stability is the real question. Without the stability cost, a full re-solve "
          "moves 20-35% of the stops to another vehicle. With the default 300 "
          "seconds-equivalent per moved stop it was 6% in a replay of last November's "
          "replans. I'll write it up for the review."),
     ]),
    ("help-it", ("2025-04-07", "08:31"), "U06L3S9GA",
     "My prod-readonly AWS role stopped working after my laptop was replaced. SSO login "
     "works, but `aws sts get-caller-identity` says the token has expired. VPN is "
     "connected. What am I missing?", [
         (("2025-04-07", "08:44"), "U05K4Q7FY",
          "The new laptop needs the SSO profile again: `aws configure sso --profile "
          "prod-readonly` with the start URL from the setup page, then `aws sso login "
          "--profile prod-readonly`. Cached tokens from the old laptop aren't migrated. "
          "If you ever need to change something in prod, that's `prod-operator` through "
          "the break-glass flow in Teleport, not the console. Setup guide: "
          "<https://wiki.halden.example/display/PLAT/New+Joiner+Setup|New Joiner Setup>"),
         (("2025-04-07", "08:52"), "U06L3S9GA", "That did it, thank you!"),
     ]),
    ("help-it", ("2025-04-08", "14:17"), "U05H2P6RN",
     "Is this phishing? An email 'Halden Logistics renewal agreement pending signature' "
     "from an address I don't know asks me to sign in to view the document.", [
         (("2025-04-08", "14:25"), "U05J8D1XW",
          "Yes. It's a campaign that reached three CSMs this morning; the link goes to a "
          "lookalike sign-in page. Don't click. Use the 'Report phishing' button in your "
          "mail client: it sends the email to us and removes it from other inboxes. If "
          "you already entered your password, change it now and tell us in "
          "#security-incidents: your hardware key protects the login, but we rotate "
          "anyway. Real signature requests from Legal always come from "
          "legal@halden.example."),
         (("2025-04-08", "14:29"), "U05H2P6RN", "Reported, and I didn't click. Thanks!"),
     ]),
]


def slack_ts(day: str, clock: str, seq: int) -> str:
    """A message timestamp as Slack writes it: seconds since the epoch (UTC), then six
    digits that keep messages of the same second apart."""
    moment = dt.datetime.fromisoformat(f"{day}T{clock}:00+00:00")
    return f"{int(moment.timestamp())}.{seq:06d}"


def slack_user(account: str, people: People) -> dict[str, Any]:
    person_id, handle = SLACK_USERS[account]
    person = people.get(person_id)
    first, _, last = person["name"].partition(" ")
    zone = person["timezone"]
    return {
        "id": account, "team_id": SLACK_TEAM, "name": handle, "deleted": False,
        "real_name": person["name"], "tz": zone, "is_admin": account == "U05K4Q7FY",
        "is_bot": False, "is_app_user": False,
        "profile": {"title": person["title"], "real_name": person["name"],
                    "real_name_normalized": person["name"],
                    "display_name": handle, "first_name": first, "last_name": last,
                    "email": person["email"], "team": SLACK_TEAM},
    }


def slack_days(people: People) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """(channel, day) -> that day's messages in time order, thread fields filled in."""
    days: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for seq, (channel, (day, clock), user, text, replies) in enumerate(SLACK_THREADS, 1):
        ts = slack_ts(day, clock, seq * 100)
        parent: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts,
                                  "team": SLACK_TEAM,
                                  "user_profile": _profile(user, people)}
        if text.endswith("has joined the channel"):
            parent = {"type": "message", "subtype": "channel_join", "user": user,
                      "text": text, "ts": ts}
        days.setdefault((channel, day), []).append(parent)
        if not replies:
            continue
        reply_ts = []
        for number, ((reply_day, reply_clock), reply_user, reply_text) in enumerate(
                replies, 1):
            rts = slack_ts(reply_day, reply_clock, seq * 100 + number)
            reply_ts.append((reply_user, rts))
            days.setdefault((channel, reply_day), []).append({
                "type": "message", "user": reply_user, "text": reply_text, "ts": rts,
                "team": SLACK_TEAM, "user_profile": _profile(reply_user, people),
                "thread_ts": ts, "parent_user_id": user})
        repliers = list(dict.fromkeys(u for u, _ in reply_ts))
        parent.update({"thread_ts": ts, "reply_count": len(replies),
                       "reply_users_count": len(repliers), "latest_reply": reply_ts[-1][1],
                       "reply_users": repliers,
                       "replies": [{"user": u, "ts": t} for u, t in reply_ts],
                       "is_locked": False, "subscribed": False})
    for messages in days.values():
        messages.sort(key=lambda m: m["ts"])
    return days


def _profile(account: str, people: People) -> dict[str, str]:
    person_id, handle = SLACK_USERS[account]
    name = people.name(person_id)
    return {"real_name": name, "display_name": handle, "name": handle,
            "first_name": name.partition(" ")[0], "team": SLACK_TEAM}


def build_slack(out: Path, people: People) -> Iterator[Path]:
    days = slack_days(people)
    users = [slack_user(account, people) for account in SLACK_USERS]
    channels = []
    for channel in SLACK_CHANNELS:
        created = int(dt.datetime.fromisoformat(f"{channel['created']}T09:00:00+00:00")
                      .timestamp())
        members = sorted({m["user"] for (name, _), messages in days.items()
                          if name == channel["name"] for m in messages})
        channels.append({
            "id": channel["id"], "name": channel["name"], "created": created,
            "creator": channel["creator"], "is_archived": False,
            "is_general": False, "members": members,
            "topic": {"value": channel["topic"], "creator": channel["creator"],
                      "last_set": created},
            "purpose": {"value": channel["purpose"], "creator": channel["creator"],
                        "last_set": created},
        })
    yield _write_json(out / "users.json", users)
    yield _write_json(out / "channels.json", channels)
    for (name, day), messages in sorted(days.items()):
        yield _write_json(out / name / f"{day}.json", messages)


def _write_json(path: Path, data: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- Confluence

SPACE: dict[str, str] = {
    "key": "PLAT", "name": "Platform Engineering", "generated": "Oct 06, 2025 16:20",
    "description": "How Platform Engineering runs the infrastructure, the event streaming "
                   "platform and on-call.",
}
# Pages in tree order: id, title, parent id, creator, last editor, last modified, labels,
# attachments (file name -> content), body (Confluence storage-like XHTML).
PAGES: list[dict[str, Any]] = [
    {
        "id": 163841, "title": "Platform Engineering Home", "parent": None,
        "creator": "p-tobias-brandt", "editor": "p-sofia-marques",
        "date": "Aug 28, 2025", "labels": [],
        "body": """
<p>Welcome to the space of <strong>Platform Engineering</strong>: the four teams that run
the infrastructure every Halden product stands on. This space holds how-tos, operating
procedures and game day reports. Runbooks for alerts live in the <code>runbooks</code>
repository and are linked from the alerts themselves.</p>
<h2 id="PlatformEngineeringHome-Teams">Teams</h2>
<div class="table-wrap"><table class="confluenceTable"><tbody>
<tr><th class="confluenceTh">Team</th><th class="confluenceTh">Owns</th>
<th class="confluenceTh">Lead</th><th class="confluenceTh">Slack</th></tr>
<tr><td class="confluenceTd">Infrastructure</td><td class="confluenceTd">AWS accounts,
EKS clusters, Terraform (<code>infra-live</code>, <code>infra-modules</code>)</td>
<td class="confluenceTd">Sofia Marques</td><td class="confluenceTd">#platform-infra</td></tr>
<tr><td class="confluenceTd">SRE</td><td class="confluenceTd">observability stack,
SLOs, incident process, on-call tooling</td><td class="confluenceTd">Lukas Meier</td>
<td class="confluenceTd">#sre</td></tr>
<tr><td class="confluenceTd">Event Streaming</td><td class="confluenceTd">Kafka clusters
<code>evt-eu1</code> and <code>evt-ap1</code>, schema registry, halden-streams</td>
<td class="confluenceTd">Amara Okafor</td><td class="confluenceTd">#streaming</td></tr>
<tr><td class="confluenceTd">Core Services</td><td class="confluenceTd">orders database,
identity service, shared libraries</td><td class="confluenceTd">Daniel Cho</td>
<td class="confluenceTd">#core-services</td></tr>
</tbody></table></div>
<h2 id="PlatformEngineeringHome-Askingforhelp">Asking for help</h2>
<ul>
<li>Something is broken in production: page the on-call through PagerDuty, or type
<code>/incident declare</code> in Slack.</li>
<li>A question that can wait a day: ask in the team's channel, not in direct messages,
so the answer helps the next person too.</li>
<li>A change to shared infrastructure: open a ticket in the <code>PLAT</code> project;
we triage every Monday and Thursday.</li>
</ul>
<h2 id="PlatformEngineeringHome-Inthisspace">In this space</h2>
<ul>
<li><a href="Kafka-Cluster-Operations_163843.html">Kafka Cluster Operations</a></li>
<li><a href="Terraform-Workflow_163845.html">Terraform Workflow</a></li>
<li><a href="Game-Day-Playbook_163847.html">Game Day Playbook</a></li>
<li><a href="New-Joiner-Setup_163849.html">New Joiner Setup</a></li>
</ul>
""",
    },
    {
        "id": 163843, "title": "Kafka Cluster Operations", "parent": 163841,
        "creator": "p-amara-okafor", "editor": "p-lukas-meier",
        "date": "Sep 02, 2025", "labels": ["kafka", "event-streaming", "operations"],
        "body": """
<div class="confluence-information-macro confluence-information-macro-information">
<span class="aui-icon aui-icon-small aui-iconfont-info confluence-information-macro-icon">
</span><div class="confluence-information-macro-body"><p>This page covers planned work
on the brokers. For alerts about consumer groups, follow the consumer lag runbook linked
from the alert.</p></div></div>
<h2 id="KafkaClusterOperations-Clusters">Clusters</h2>
<p><code>evt-eu1</code> runs in Frankfurt on Amazon MSK with six brokers across three
availability zones; <code>evt-ap1</code> runs in Singapore with three brokers. Both are
defined in <code>infra-live</code> and changed only through Atlantis. Every topic has a
replication factor of 3 and <code>min.insync.replicas</code> of 2, so one broker can be
down without producers with <code>acks=all</code> noticing.</p>
<h2 id="KafkaClusterOperations-Rollingrestarts">Rolling restarts and version upgrades</h2>
<ol>
<li>Announce the window in <code>#streaming</code> and <code>#deploys</code> one working
day ahead. Never on Monday, the busiest day for route replans.</li>
<li>Check that under-replicated partitions are at zero and that no partition
reassignment is running.</li>
<li>Restart one broker at a time. Wait until under-replicated partitions are back at
zero and the broker leads its preferred partitions again before the next one.</li>
<li>After the last broker, run a preferred leader election and compare produce latency
with the week before.</li>
</ol>
<p>MSK version upgrades follow the same order and take about 25 minutes per broker on
<code>evt-eu1</code>. Upgrade staging first and leave it for a week.</p>
<h2 id="KafkaClusterOperations-Reassigningpartitions">Adding brokers and reassigning
partitions</h2>
<p>New brokers receive no partitions until we move some. Generate the plan with
<code>kafka-reassign-partitions --generate</code>, review that no broker ends up with more
than 10% above the average of leaders, and execute it with a replication throttle of
50 MB/s per broker so that client traffic keeps its headroom:</p>
<div class="code panel pdl"><div class="codeContent panelContent pdl">
<pre class="syntaxhighlighter-pre"
data-syntaxhighlighter-params="brush: bash; gutter: false; theme: Confluence"
data-theme="Confluence">kafka-reassign-partitions --bootstrap-server evt-eu1:9092 \\
  --reassignment-json-file plan.json --execute --throttle 52428800
kafka-reassign-partitions --bootstrap-server evt-eu1:9092 \\
  --reassignment-json-file plan.json --verify</pre>
</div></div>
<p>The <code>--verify</code> step also removes the throttle; a throttle left behind slows
every later recovery, so always run it.</p>
<h2 id="KafkaClusterOperations-Diskspace">Disk space</h2>
<p>Storage autoscaling grows a broker's volume at 80% usage; it never shrinks it. If a
single topic fills the disks, lower its retention before anything else and tell the
owning team: the shipment topics keep seven days, billing topics 30.</p>
""",
    },
    {
        "id": 163845, "title": "Terraform Workflow", "parent": 163841,
        "creator": "p-sofia-marques", "editor": "p-nina-kowalski",
        "date": "Jul 22, 2025", "labels": ["terraform", "infrastructure-as-code"],
        "body": """
<p>How a change to cloud infrastructure goes from a branch to production. The layout of
the repositories and the module versioning rules are on the Terraform repository layout
page; this page is the day-to-day workflow.</p>
<h2 id="TerraformWorkflow-Steps">Steps</h2>
<ol>
<li>Branch from <code>main</code> in <code>infra-live</code>, change one leaf folder, and
keep the plan under about 150 resources.</li>
<li>Open a pull request. Atlantis runs <code>terraform plan</code> and posts it as a
comment; read it yourself before asking for a review.</li>
<li>Get one approval from a CODEOWNER of the folder. A plan that replaces
(<code>-/+</code>) a database, a Kafka cluster or an EKS node group needs a second
reviewer from Platform Engineering.</li>
<li>Comment <code>atlantis apply</code>. Applies happen only from Atlantis; local applies
against production are blocked.</li>
<li>Merge right after the apply, so <code>main</code> always matches production.</li>
</ol>
<h2 id="TerraformWorkflow-Whenaplanfails">When a plan or apply fails</h2>
<ul>
<li><strong>State lock held</strong>: somebody else's apply is running, or one died. Check
Atlantis for a running job before you force-unlock; never force-unlock a lock younger
than an hour without asking in <code>#platform-infra</code>.</li>
<li><strong>Drift</strong>: the nightly drift job opens a <code>PLAT</code> ticket. Whoever
changed the console codifies or reverts it within two working days.</li>
<li><strong>Provider upgrade</strong>: upgrade providers in a pull request of their own,
never together with a resource change.</li>
</ul>
""",
    },
    {
        "id": 163847, "title": "Game Day Playbook", "parent": 163841,
        "creator": "p-meiling-tan", "editor": "p-lukas-meier",
        "date": "Jun 18, 2025", "labels": ["game-day", "incident-response", "on-call"],
        "attachments": {"checklist.txt": """Game day checklist

Two weeks before
- Pick the failure and write the hypothesis: what we expect the alerts, dashboards and
  runbooks to do.
- Agree the blast radius: staging only, unless the VP Platform Engineering approves.
- Book the date in the team calendar; the whole team watches, the on-call responds.

On the day
- Announce the start in #sre and #deploys.
- Inject the failure and start the clock.
- The observer writes down every step with a timestamp: first alert, first useful
  dashboard, runbook opened, mitigation, recovery.
- Stop at once if staging is needed for a production fix.

Afterwards, within a week
- Short report as a child page of the Game Day Playbook: what happened, what surprised
  us, action items with owners.
- File missing runbooks and broken dashboards as PLAT tickets with the label game-day.
"""},
        "body": """
<p>Every team that owns a production service runs a game day once a quarter: a realistic
failure injected in staging and handled by whoever is on call that week, with the rest
of the team watching. Game days find missing runbooks and broken dashboards before real
incidents do, and they are the safest place for a new engineer's first incident.</p>
<h2 id="GameDayPlaybook-Roles">Roles</h2>
<ul>
<li><strong>Game master</strong>: chooses and injects the failure, knows the answer, says
nothing.</li>
<li><strong>Responder</strong>: the engineer on call that week, working as in a real
incident: incident channel, updates, roles.</li>
<li><strong>Observer</strong>: writes the timeline and every moment somebody had to
guess.</li>
</ul>
<h2 id="GameDayPlaybook-Goodfailures">Failures that taught us the most</h2>
<ul>
<li>A Kafka broker stopped in staging: found that two consumers had no dead-letter
topic.</li>
<li>A full disk on a PostgreSQL replica: the disk alert fired, but its runbook link was
dead.</li>
<li>CoreDNS pods evicted: every service failed at once and nobody looked at DNS for 20
minutes.</li>
<li>An expired certificate on the internal ingress: the synthetic checks caught it
within two minutes.</li>
</ul>
<p>Use the checklist below to prepare. Reports go as child pages of this page.</p>
""",
    },
    {
        "id": 163851, "title": "Game Day 2025-Q3 Report", "parent": 163847,
        "creator": "p-meiling-tan", "editor": "p-meiling-tan",
        "date": "Sep 25, 2025", "labels": ["game-day"],
        "body": """
<p><strong>Failure injected:</strong> CoreDNS scaled to zero replicas in the staging EKS
cluster on 23 September 2025, 10:00 SGT. <strong>Responder:</strong> Nina Kowalski
(first game day as responder). <strong>Game master:</strong> Mei Ling Tan.</p>
<h2 id="GameDay2025Q3Report-Timeline">Timeline</h2>
<div class="table-wrap"><table class="confluenceTable"><tbody>
<tr><th class="confluenceTh">Time</th><th class="confluenceTh">What happened</th></tr>
<tr><td class="confluenceTd">10:00</td><td class="confluenceTd">CoreDNS scaled to 0</td></tr>
<tr><td class="confluenceTd">10:03</td><td class="confluenceTd">synthetic checks fail from
both regions, page sent</td></tr>
<tr><td class="confluenceTd">10:09</td><td class="confluenceTd">incident channel open;
responder suspects the last deploy and rolls it back</td></tr>
<tr><td class="confluenceTd">10:21</td><td class="confluenceTd">traces show every outbound
call failing at name resolution</td></tr>
<tr><td class="confluenceTd">10:26</td><td class="confluenceTd">CoreDNS restored, services
recover within two minutes</td></tr>
</tbody></table></div>
<h2 id="GameDay2025Q3Report-Whatwelearned">What we learned</h2>
<ul>
<li>The debugging checklist sends people to recent changes first, which was right but
cost 12 minutes here. We added "several services red at once: check DNS, the ingress and
Kafka" to the checklist.</li>
<li>There was no alert on CoreDNS availability. There is one now, with a runbook.</li>
<li>Nina ran the incident calmly and posted updates every 10 minutes. The rollback was a
reasonable first mitigation.</li>
</ul>
""",
    },
    {
        "id": 163849, "title": "New Joiner Setup", "parent": 163841,
        "creator": "p-nina-kowalski", "editor": "p-lukas-meier",
        "date": "Apr 07, 2025", "labels": ["onboarding", "access"],
        "body": """
<p>What a new engineer in Platform Engineering sets up in the first week. Your buddy
walks through it with you on day one; this page is the reference.</p>
<h2 id="NewJoinerSetup-Accounts">Accounts and access</h2>
<ol>
<li>Single sign-on with your hardware key. Every other login goes through SSO.</li>
<li>VPN client, then the AWS profiles: <code>aws configure sso --profile
prod-readonly</code> with the start URL from the IT portal, then <code>aws sso login
--profile prod-readonly</code>. Repeat on a replacement laptop: cached tokens are not
migrated.</li>
<li>Teleport for production shells. <code>prod-operator</code> is granted only through
the break-glass flow, which logs every session.</li>
<li>PagerDuty app with high-urgency notifications that override do-not-disturb.</li>
</ol>
<h2 id="NewJoinerSetup-Firstweeks">Your first weeks</h2>
<ul>
<li>Shadow two full on-call rotations before your first week as primary; your first
primary week is paired with an experienced secondary.</li>
<li>Take part in the next game day as observer.</li>
<li>Make one small change through the Terraform workflow with your buddy.</li>
</ul>
<p>Questions about access go to <code>#help-it</code>; questions about our systems go to
the team channels.</p>
""",
    },
]

PAGE_TEMPLATE = """<!DOCTYPE html>
<html>
    <head>
        <title>{space} : {title}</title>
        <link rel="stylesheet" href="styles/site.css" type="text/css" />
        <META http-equiv="Content-Type" content="text/html; charset=UTF-8">
    </head>

    <body class="theme-default aui-theme-default">
        <div id="page">
            <div id="main" class="aui-page-panel">
                <div id="main-header">
                    <div id="breadcrumb-section">
                        <ol id="breadcrumbs">
{crumbs}
                        </ol>
                    </div>
                    <h1 id="title-heading" class="pagetitle">
                        <span id="title-text">
                            {space} : {title}
                        </span>
                    </h1>
                </div>

                <div id="content" class="view">
                    <div class="page-metadata">
                        {metadata}
                    </div>
                    <div id="main-content" class="wiki-content group">
{body}
                    </div>
{labels}{attachments}
                </div>
            </div>
            <div id="footer" role="contentinfo">
                <section class="footer-body">
                    <p>Document generated by Confluence on {generated}</p>
                    <div id="footer-logo"><a href="http://www.atlassian.com/">Atlassian</a></div>
                </section>
            </div>
        </div>
    </body>
</html>
"""

INDEX_TEMPLATE = """<!DOCTYPE html>
<html>
    <head>
        <title>{space}</title>
        <link rel="stylesheet" href="styles/site.css" type="text/css" />
        <META http-equiv="Content-Type" content="text/html; charset=UTF-8">
    </head>

    <body class="theme-default aui-theme-default">
        <div id="page">
            <div id="main" class="aui-page-panel">
                <div id="main-header">
                    <h1 id="title-heading" class="pagetitle">
                        <span id="title-text">{space}</span>
                    </h1>
                </div>

                <div id="content" class="view">
                    <div class="pageSection">
                        <div class="pageSectionHeader">
                            <h2 id="spacedetails" class="pageSectionTitle">Space Details:</h2>
                        </div>
                        <table class="confluenceTable">
                            <tr><th class="confluenceTh">Key</th>
                                <td class="confluenceTd">{key}</td></tr>
                            <tr><th class="confluenceTh">Name</th>
                                <td class="confluenceTd">{space}</td></tr>
                            <tr><th class="confluenceTh">Description</th>
                                <td class="confluenceTd">{description}</td></tr>
                            <tr><th class="confluenceTh">Created by</th>
                                <td class="confluenceTd">{creator} (Feb 01, 2021)</td></tr>
                        </table>
                    </div>

                    <div class="pageSection">
                        <div class="pageSectionHeader">
                            <h2 id="pages" class="pageSectionTitle">Available Pages:</h2>
                        </div>
{tree}
                    </div>
                </div>
            </div>
            <div id="footer" role="contentinfo">
                <section class="footer-body">
                    <p>Document generated by Confluence on {generated}</p>
                    <div id="footer-logo"><a href="http://www.atlassian.com/">Atlassian</a></div>
                </section>
            </div>
        </div>
    </body>
</html>
"""

SITE_CSS = """/* The look of a Confluence HTML export, much reduced: whoknows reads no CSS. */
body { font-family: -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #172b4d;
       font-size: 14px; line-height: 1.43; margin: 0; }
#page { max-width: 960px; margin: 0 auto; padding: 20px; }
#breadcrumbs { list-style: none; margin: 0; padding: 0; font-size: 12px; }
#breadcrumbs li { display: inline; }
#breadcrumbs li + li:before { content: " / "; color: #6b778c; }
.pagetitle { font-size: 24px; font-weight: 500; margin: 8px 0 16px; }
.page-metadata { color: #6b778c; font-size: 12px; margin-bottom: 16px; }
.confluenceTable { border-collapse: collapse; }
.confluenceTh, .confluenceTd { border: 1px solid #c1c7d0; padding: 7px 10px; }
.confluenceTh { background: #f4f5f7; text-align: left; }
.code.panel { background: #f4f5f7; border: 1px solid #dfe1e6; padding: 8px; }
.confluence-information-macro { background: #deebff; padding: 8px 12px; margin: 8px 0; }
.pageSectionTitle { font-size: 16px; border-bottom: 1px solid #dfe1e6; }
.label-list { list-style: none; padding: 0; }
.label-list li { display: inline-block; background: #dfe1e6; margin: 0 4px 4px 0;
                 padding: 0 6px; border-radius: 3px; }
#footer { color: #6b778c; font-size: 11px; margin-top: 40px; }
"""


def page_file(page: dict[str, Any]) -> str:
    """Confluence's file name for a page: the title's words joined by "-", then its id."""
    return f"{'-'.join(page['title'].replace('-', ' ').split())}_{page['id']}.html"


def _ancestors(page: dict[str, Any]) -> list[dict[str, Any]]:
    by_id = {p["id"]: p for p in PAGES}
    chain: list[dict[str, Any]] = []
    while page["parent"] is not None:
        page = by_id[page["parent"]]
        chain.insert(0, page)
    return chain


def _crumbs(page: dict[str, Any]) -> str:
    pad = " " * 28
    items = [f'{pad}<li class="first">\n{pad}    <span><a href="index.html">'
             f'{html.escape(SPACE["name"])}</a></span>\n{pad}</li>']
    items += [f'{pad}<li>\n{pad}    <span><a href="{page_file(a)}">'
              f'{html.escape(a["title"])}</a></span>\n{pad}</li>' for a in _ancestors(page)]
    return "\n".join(items)


def _metadata(page: dict[str, Any], people: People) -> str:
    """The line under the title, as Confluence writes it: creator, last editor, date."""
    return (f"Created by <span class='author'> {html.escape(people.name(page['creator']))}"
            f"</span>, last modified by <span class='editor'> "
            f"{html.escape(people.name(page['editor']))}</span> on "
            f"<span class='last-modified'>{page['date']}</span>")


def _labels(page: dict[str, Any]) -> str:
    if not page["labels"]:
        return ""
    items = "\n".join(
        f'                            <li class="aui-label"><a class="aui-label-split-main" '
        f'href="https://wiki.halden.example/label/{SPACE["key"]}/{label}" rel="tag">'
        f'{label}</a></li>' for label in page["labels"])
    return ('                    <div id="labels-section" class="pageSection">\n'
            '                        <ul class="label-list">\n'
            f'{items}\n'
            '                        </ul>\n'
            '                    </div>\n')


def _attachments(page: dict[str, Any]) -> str:
    files = page.get("attachments") or {}
    if not files:
        return ""
    links = "\n".join(
        '                            <img src="images/icons/bullet_blue.gif" height="8" '
        f'width="8" alt=""/>\n                            <a href="attachments/{page["id"]}/'
        f'{name}">{name}</a> (text/plain)\n                            <br/>'
        for name in files)
    return ('                    <div class="pageSection group">\n'
            '                        <div class="pageSectionHeader">\n'
            '                            <h2 id="attachments" class="pageSectionTitle">'
            'Attachments:</h2>\n'
            '                        </div>\n'
            '                        <div class="greybox" align="left">\n'
            f'{links}\n'
            '                        </div>\n'
            '                    </div>\n')


def _tree(parent: int | None, depth: int) -> str:
    pad = " " * (24 + 4 * depth)
    children = [p for p in PAGES if p["parent"] == parent]
    if not children:
        return ""
    items = []
    for child in children:
        below = _tree(child["id"], depth + 2)
        link = f'<a href="{page_file(child)}">{html.escape(child["title"])}</a>'
        items.append(f"{pad}    <li>{link}\n{below}{pad}    </li>" if below
                     else f"{pad}    <li>{link}</li>")
    return f"{pad}<ul>\n" + "\n".join(items) + f"\n{pad}</ul>\n"


def build_confluence(out: Path, people: People) -> Iterator[Path]:
    for page in PAGES:
        text = PAGE_TEMPLATE.format(
            space=html.escape(SPACE["name"]), title=html.escape(page["title"]),
            crumbs=_crumbs(page), metadata=_metadata(page, people),
            body=page["body"].strip("\n"), labels=_labels(page),
            attachments=_attachments(page), generated=SPACE["generated"])
        yield _write_text(out / page_file(page), text)
        for name, content in (page.get("attachments") or {}).items():
            yield _write_text(out / "attachments" / str(page["id"]) / name, content)
    yield _write_text(out / "index.html", INDEX_TEMPLATE.format(
        space=html.escape(SPACE["name"]), key=SPACE["key"],
        description=html.escape(SPACE["description"]),
        creator=html.escape(people.name(PAGES[0]["creator"])),
        tree=_tree(None, 0).rstrip("\n"), generated=SPACE["generated"]))
    yield _write_text(out / "styles" / "site.css", SITE_CSS)


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


# ---------------------------------------------------------------- main


def build_all(corpus: Path) -> Iterable[Path]:
    people = People(corpus / "people" / "people.yaml")
    office = corpus / "office"
    office.mkdir(parents=True, exist_ok=True)
    for document in WORD:
        yield build_word(document, office, people)
    for deck in DECKS:
        yield build_deck(deck, office, people)
    yield build_workbook(office, people)
    yield build_odt(office, people)
    # The exports are this script's alone: written afresh, so a file dropped from the
    # data above (a renamed page, a moved day) does not linger in the corpus.
    for name, build in (("acme-slack", build_slack), ("acme-confluence", build_confluence)):
        folder = corpus / "exports" / name
        shutil.rmtree(folder, ignore_errors=True)
        yield from build(folder, people)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT / "corpus"),
                    help="the corpus folder: people/people.yaml is read from it")
    args = ap.parse_args()
    for path in build_all(Path(args.corpus)):
        print(path)


if __name__ == "__main__":
    main()
