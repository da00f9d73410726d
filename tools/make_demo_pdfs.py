#!/usr/bin/env python3
"""Generate the demo PDF articles of the Halden Logistics corpus.

Writes four PDFs into corpus/articles/ (relative to the repository root):
a solver benchmark whitepaper, a data retention policy, a quarterly
business review and a feedback training handout. The PDF info dictionary
carries Title, Author (comma-separated person ids or emails), Keywords
(comma-separated tags), Subject and a fixed creation date, which is what
`whoknows ingest` reads.

Usage: python tools/make_demo_pdfs.py [--out corpus/articles]
"""
from __future__ import annotations

import argparse
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (ListFlowable, ListItem, Paragraph, SimpleDocTemplate,
                                Spacer, Table, TableStyle)

ROOT = Path(__file__).resolve().parent.parent

# Each document: file name, info fields, and a list of blocks.
# Blocks: ("h1", text) ("h2", text) ("p", text) ("ul", [items]) ("table", rows)
DOCS = [
    {
        "file": "solver-benchmark-2025.pdf",
        "title": "Route solver benchmark 2025: OR-Tools search strategies and the LNS layer",
        "author": "p-jakob-fischer, p-ana-ferreira",
        "keywords": "route-optimization, operations-research, vrp, or-tools, benchmark",
        "subject": "Whitepaper - Data & ML, optimisation squad",
        "date": "20250602",
        "blocks": [
            ("h1", "Route solver benchmark 2025"),
            ("p", "<i>Whitepaper of the optimisation squad, Data &amp; ML. Internal; "
                  "may be shared with customers under NDA on request.</i>"),
            ("h2", "Summary"),
            ("p", "Every change to solverd, the vehicle routing solver behind dispatchd, is "
                  "tested against a benchmark suite of 1,400 real, anonymised routing instances "
                  "from Halden customers, plus the public Solomon and Gehring-Homberger sets. "
                  "This paper reports the 2025 comparison of first-solution strategies and "
                  "metaheuristics available in Google OR-Tools with our own large neighbourhood "
                  "search (LNS) layer. The headline result: guided local search followed by "
                  "our cluster-removal LNS reduces total route cost by 3.1% on average against "
                  "guided local search alone, at the same 90-second overnight budget, and cuts "
                  "unassigned stops by 38%."),
            ("h2", "Benchmark suite"),
            ("p", "The customer instances were sampled in 2024 to represent our customer mix: "
                  "parcel delivery (41%), grocery with time windows (22%), pallet distribution "
                  "(18%), field service (11%) and mixed pickup-and-delivery (8%). Sizes range "
                  "from 40 to 3,200 stops and 2 to 180 vehicles. Instances are anonymised by "
                  "replacing coordinates with travel-time matrices from matrixd and removing "
                  "names, addresses and customer identifiers; the privacy team reviewed the "
                  "procedure. Each instance has a best known solution from a 30-minute run "
                  "with all strategies, refreshed whenever a better solution is found."),
            ("h2", "Strategies compared"),
            ("table", [
                ["Configuration", "First solution", "Improvement", "Mean gap to BKS", "Unassigned"],
                ["A (2023 default)", "PATH_CHEAPEST_ARC", "guided local search", "6.4%", "1.9%"],
                ["B", "SAVINGS", "guided local search", "5.2%", "1.6%"],
                ["C", "PARALLEL_CHEAPEST_INSERTION", "simulated annealing", "6.9%", "1.4%"],
                ["D", "SAVINGS", "tabu search", "5.6%", "1.7%"],
                ["E (2025 default)", "SAVINGS", "GLS + cluster-removal LNS", "2.1%", "1.0%"],
            ]),
            ("p", "Gap to best known solution (BKS) is measured on total cost: driving time, "
                  "vehicle fixed costs, overtime and soft-constraint penalties, all at the "
                  "90-second overnight budget on a single worker with 4 vCPUs."),
            ("h2", "Why LNS helps"),
            ("p", "OR-Tools' local search operators move one or a few stops at a time. On "
                  "large instances with tight time windows the search gets stuck: any single "
                  "move breaks a window. The LNS layer removes a whole geographic cluster of "
                  "stops (10 to 30% of the instance, chosen by a k-means partition of stop "
                  "locations), reinserts them with regret-3 insertion, and hands the result "
                  "back to guided local search. The removal step is implemented in Rust and "
                  "called through halden-fastpath, so an LNS iteration takes about 40 ms on a "
                  "1,000-stop instance."),
            ("h2", "Results by segment"),
            ("ul", [
                "Parcel delivery: largest improvement (4.0% lower cost), because dense urban "
                "instances benefit most from reshaping whole clusters.",
                "Grocery with time windows: 3.3% lower cost and half the unassigned stops; "
                "tight windows were where configuration A failed most.",
                "Pallet distribution: 1.2%; instances are small and capacity-bound, and "
                "all configurations are close to optimal.",
                "Field service: 2.6%; skills constraints limit the benefit of removal.",
            ]),
            ("h2", "Interactive replans"),
            ("p", "For the 8-second interactive budget LNS is not worth its overhead on "
                  "instances under 300 stops. solverd therefore enables it only above 300 "
                  "stops or when the first solution leaves stops unassigned. On interactive "
                  "replans the median cost difference between configurations is below 0.5%; "
                  "plan stability, the penalty for moving stops between vehicles, matters "
                  "more to dispatchers than the last percent of cost."),
            ("h2", "Limitations"),
            ("p", "The benchmark measures cost as modelled, not reality. A plan that is 2% "
                  "cheaper in the model but ignores a loading dock that is always blocked is "
                  "worse in practice. We therefore also track the share of stops moved by "
                  "hand by dispatchers after planning, which fell from 9% to 7% after the "
                  "rollout of configuration E in March 2025."),
            ("h2", "Reproducing the results"),
            ("p", "The benchmark runs in CI on the solver-bench node pool. Run it locally with "
                  "<font face='Courier'>solverd-bench --suite customer-2024 --config E --budget 90</font>. "
                  "Results and per-instance plots are uploaded to the benchmark dashboard."),
        ],
    },
    {
        "file": "data-retention-policy.pdf",
        "title": "Data retention and deletion policy",
        "author": "p-lea-schneider, p-beatriz-santos",
        "keywords": "gdpr, privacy, data-retention, data-protection, policy",
        "subject": "Policy - Security & Privacy, version 3.1",
        "date": "20250121",
        "blocks": [
            ("h1", "Data retention and deletion policy"),
            ("p", "<i>Policy owner: Data Protection Officer. Version 3.1, approved by the "
                  "leadership team in January 2025. Applies to all Halden Logistics entities "
                  "and all systems that store personal data or customer data.</i>"),
            ("h2", "1. Purpose"),
            ("p", "Personal data may only be kept as long as it is needed for the purpose it "
                  "was collected for (GDPR Article 5(1)(e), storage limitation). Keeping data "
                  "longer increases the damage of a breach, the cost of data subject requests "
                  "and storage costs, and makes it harder to answer customer security "
                  "questionnaires. This policy sets retention periods and the way data is "
                  "deleted when they end."),
            ("h2", "2. Principles"),
            ("ul", [
                "Every system that stores personal data is listed in the records of processing, "
                "with an owner and a retention period taken from the schedule below.",
                "Deletion is automated wherever possible. A retention period that depends on a "
                "person remembering to run a script is not a retention period.",
                "Where the law requires keeping records (tax, commercial law), the data is "
                "restricted: access is limited to the function that needs it.",
                "Backups are not edited; they expire. Restores re-apply deletions.",
                "Customer data in customer tenants follows the customer's instructions and the "
                "data processing agreement; the defaults below apply when the customer has not "
                "configured shorter periods.",
            ]),
            ("h2", "3. Retention schedule"),
            ("table", [
                ["Data", "Retention", "Deletion method"],
                ["Driver location history (customer tenants)", "90 days default, configurable 7-365", "nightly job, per tenant"],
                ["Gate camera images (ANPR)", "72 hours", "S3 lifecycle rule"],
                ["Licence plates on appointments", "90 days", "anonymised by yard-api job"],
                ["Proof-of-delivery photos and signatures", "13 months default", "per-tenant lifecycle"],
                ["Application logs", "30 days (Loki), 14 days traces", "storage retention"],
                ["Audit logs", "13 months", "storage retention"],
                ["CRM contacts without activity", "36 months", "dsar-erase job"],
                ["Candidate data (not hired)", "6 months, 24 with consent", "Greenhouse auto-purge"],
                ["Employee records", "contract end + legal period per country", "HR system"],
                ["Invoices, contracts, accounting", "10 years (DE), as required elsewhere", "restricted archive"],
                ["Research recordings", "24 months", "Dovetail auto-delete"],
            ]),
            ("h2", "4. Customer off-boarding"),
            ("p", "When a customer contract ends, the tenant becomes read-only for 30 days so "
                  "the customer can export data, then all tenant data is deleted within a "
                  "further 60 days, including derived data in the warehouse and the feature "
                  "store (by rotating the tenant's pseudonymisation key). The customer receives "
                  "a deletion certificate on request. Aggregated, anonymised statistics (for "
                  "example lane price indices) are kept."),
            ("h2", "5. Exceptions and legal holds"),
            ("p", "Legal may place a hold on specific data in connection with a dispute or "
                  "investigation. Holds are recorded in the privacy tool with a reason and a "
                  "review date, and suspend the automated deletion for the affected records "
                  "only. Any other exception to this schedule requires written approval from "
                  "the DPO and is reviewed every six months."),
            ("h2", "6. Responsibilities"),
            ("ul", [
                "System owners implement and monitor deletion for their systems.",
                "The privacy team maintains the schedule, checks implementation twice a year "
                "and reports exceptions to the leadership team.",
                "Security verifies deletion as part of the annual ISO 27001 internal audit.",
                "Everyone: do not copy personal data into spreadsheets, tickets or chat where "
                "it escapes the retention controls.",
            ]),
            ("h2", "7. Review"),
            ("p", "This policy is reviewed annually and whenever a new category of personal "
                  "data is introduced. Questions: privacy@halden.example."),
        ],
    },
    {
        "file": "q3-2025-business-review.pdf",
        "title": "Quarterly business review Q3 2025",
        "author": "p-rohan-kapoor, p-jiwoo-lee",
        "keywords": "financial-planning, quarterly-report, saas-metrics, arr, forecasting",
        "subject": "Quarterly report - Finance",
        "date": "20251021",
        "blocks": [
            ("h1", "Quarterly business review: Q3 2025"),
            ("p", "<i>Prepared by Finance for all employees. Figures are unaudited management "
                  "figures. Board-level detail is in the board pack.</i>"),
            ("h2", "Highlights"),
            ("ul", [
                "ARR reached EUR 52.4M at the end of September, up 24% year over year and "
                "EUR 3.1M in the quarter.",
                "Net revenue retention 112% (trailing twelve months), gross revenue retention "
                "92%.",
                "Freight marketplace gross merchandise value EUR 61M in the quarter; net "
                "revenue (take rate) EUR 3.4M.",
                "EBITDA margin 9.8% for the quarter, ahead of the 8.5% plan, mainly from slower "
                "G&amp;A hiring and lower cloud costs.",
            ]),
            ("h2", "Key metrics"),
            ("table", [
                ["Metric", "Q3 2024", "Q2 2025", "Q3 2025", "Plan Q3 2025"],
                ["ARR (EUR M)", "42.3", "49.3", "52.4", "51.8"],
                ["Net new ARR (EUR M)", "2.4", "2.6", "3.1", "2.9"],
                ["Customers", "1,184", "1,302", "1,351", "1,340"],
                ["NRR (TTM)", "108%", "111%", "112%", "110%"],
                ["GRR (TTM)", "90%", "91%", "92%", "91%"],
                ["CAC payback (months)", "22", "19", "18", "20"],
                ["Gross margin", "71.5%", "73.8%", "74.6%", "73.5%"],
                ["Cloud cost / revenue", "15.2%", "14.1%", "13.6%", "14.0%"],
            ]),
            ("h2", "Revenue"),
            ("p", "Subscription revenue grew 22% year over year. Usage revenue grew faster "
                  "(31%) after the move to per-shipment pricing in February: 41% of customers "
                  "who renewed in the quarter moved to the new packaging, and their average "
                  "contract value rose 9% at renewal, within the 12% cap. Revenue from the "
                  "Singapore entity doubled year over year, now 11% of group ARR."),
            ("h2", "Costs"),
            ("p", "Personnel costs were 3% below plan because 14 planned roles started later "
                  "than budgeted; most are now filled. Cloud costs were EUR 1.68M for the "
                  "quarter, 4% below forecast, after moving 45% of general node capacity to "
                  "Graviton instances and right-sizing the five largest namespaces. The "
                  "savings plan commitment renewed in August at 70% of baseline usage."),
            ("h2", "Cash"),
            ("p", "Operating cash flow was positive for the third consecutive quarter (EUR "
                  "2.2M). Cash at the end of the quarter was EUR 38.9M. Days sales "
                  "outstanding fell from 52 to 46 days after the collections process was "
                  "moved into Salesforce, with automated reminders for overdue invoices."),
            ("h2", "Forecast for the full year"),
            ("p", "We raise the full-year ARR forecast to EUR 56.0M (budget EUR 55.0M) and keep "
                  "the EBITDA margin forecast at 8.5% because of planned Q4 investments in the "
                  "North American sales team. The biggest risk to the forecast is the timing of "
                  "three enterprise renewals in December worth EUR 2.3M ARR combined; all "
                  "three are in active save or expansion plays with executive sponsors."),
            ("h2", "Questions"),
            ("p", "Ask in the all-hands Q&amp;A on 23 October or in #ask-finance. The FP&amp;A "
                  "team publishes the methodology for every metric in the metrics glossary."),
        ],
    },
    {
        "file": "feedback-training-handout.pdf",
        "title": "Giving and receiving feedback: training handout",
        "author": "p-elif-yilmaz",
        "keywords": "coaching, feedback, people-management, training, communication",
        "subject": "Training handout - People & Culture",
        "date": "20240311",
        "blocks": [
            ("h1", "Giving and receiving feedback"),
            ("p", "<i>Handout for the feedback training that every new joiner and every new "
                  "manager takes in their first three months. Keep it next to your keyboard.</i>"),
            ("h2", "Why feedback matters here"),
            ("p", "We work across five locations and many cultures. What sounds direct in Berlin "
                  "can sound rude in Singapore, and what sounds polite in Toronto can be "
                  "missed entirely in Lisbon. Clear, specific, kind feedback is how we keep "
                  "learning from each other without guessing."),
            ("h2", "The SBI model"),
            ("ul", [
                "<b>Situation</b>: when and where. \"In yesterday's dispatcher workshop with the "
                "Porto customer...\"",
                "<b>Behaviour</b>: what the person did, observable and specific, no "
                "interpretation. \"...you answered three of the customer's questions before "
                "the customer had finished asking them.\"",
                "<b>Impact</b>: the effect on you, the team or the customer. \"The customer "
                "stopped asking questions after the first half hour, and we did not learn "
                "what they think of the new dock view.\"",
            ]),
            ("p", "Then stop and ask: \"How did you see it?\" Feedback is the start of a "
                  "conversation, not a verdict."),
            ("h2", "Positive feedback uses the same model"),
            ("p", "\"Great job\" is pleasant but teaches nothing. \"In the incident on Tuesday "
                  "(S) you posted an update every 20 minutes even when there was no news (B); "
                  "Customer Success could answer customers without interrupting the responders "
                  "(I)\" tells the person exactly what to repeat."),
            ("h2", "Five rules"),
            ("table", [
                ["Rule", "In practice"],
                ["Soon", "within a few days, while both remember the situation"],
                ["Private for developmental feedback", "never in a channel, never in front of customers"],
                ["About behaviour, not personality", "\"you interrupted\" not \"you are arrogant\""],
                ["One thing at a time", "a list of ten points is a performance review, not feedback"],
                ["Balanced over time", "people who only hear criticism stop listening"],
            ]),
            ("h2", "Receiving feedback"),
            ("ul", [
                "Listen to the end. Do not defend, explain or counter-attack in the moment.",
                "Ask for an example if the feedback is vague.",
                "Say thank you: giving feedback costs the other person effort and some courage.",
                "Decide afterwards what you will do with it. You do not have to agree with all "
                "feedback, but you should consider it.",
                "Close the loop: tell the person later what you changed.",
            ]),
            ("h2", "Feedback across cultures and time zones"),
            ("p", "Ask the person how they prefer to receive feedback, and tell them how you "
                  "prefer it. In writing, be more explicit than you would be in person: tone "
                  "does not travel through chat. For anything developmental, use a video call "
                  "rather than a message, even if it means waiting a day for a slot that works "
                  "in both time zones."),
            ("h2", "Practice exercise"),
            ("p", "Before the second session, write one piece of SBI feedback for a colleague, "
                  "positive or developmental, and deliver it. Bring to the session: how it "
                  "went, what the person said, and what you would do differently. The "
                  "trainer will pair you with someone from another department for role play."),
        ],
    },
]


def _styles():
    ss = getSampleStyleSheet()
    body = ss["BodyText"]
    body.spaceAfter = 6
    body.leading = 14
    return {"h1": ss["Title"], "h2": ss["Heading2"], "p": body}


def _table(rows, styles):
    data = [[Paragraph(str(c), styles["p"]) for c in row] for row in rows]
    t = Table(data, repeatRows=1)
    t.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#1F5FBF")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    # header row text in white
    for cell in data[0]:
        cell.style = cell.style.clone("hdr", textColor=colors.white)
    return t


class _FooterDoc(SimpleDocTemplate):
    """Draws the footer after the page content, so text extraction starts
    with the document's own title rather than the footer."""

    def afterPage(self):
        c = self.canv
        c.saveState()
        c.setFont("Helvetica", 8)
        c.drawString(2 * cm, 1.2 * cm, "Halden Logistics - internal")
        c.drawRightString(A4[0] - 2 * cm, 1.2 * cm, "page %d" % c.getPageNumber())
        c.restoreState()


def build(doc: dict, out_dir: Path) -> Path:
    styles = _styles()
    path = out_dir / doc["file"]
    story = []
    for kind, content in doc["blocks"]:
        if kind in ("h1", "h2", "p"):
            story.append(Paragraph(content, styles[kind]))
        elif kind == "ul":
            story.append(ListFlowable(
                [ListItem(Paragraph(i, styles["p"]), leftIndent=12) for i in content],
                bulletType="bullet", start="\u2022", leftIndent=12))
            story.append(Spacer(1, 4))
        elif kind == "table":
            story.append(_table(content, styles))
            story.append(Spacer(1, 8))
        else:
            raise ValueError(kind)

    stamp = "D:%s090000+00'00'" % doc["date"]

    def on_page(canvas, _doc):
        # fixed creation/modification date, so the corpus is reproducible
        canvas.setDateFormatter(lambda *a: stamp)

    template = _FooterDoc(
        str(path), pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm,
        topMargin=2 * cm, bottomMargin=2 * cm,
        title=doc["title"], author=doc["author"], subject=doc["subject"],
        keywords=doc["keywords"], creator="tools/make_demo_pdfs.py",
        invariant=True)  # byte-identical output on every run
    template.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "corpus" / "articles"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for doc in DOCS:
        print(build(doc, out))


if __name__ == "__main__":
    main()
