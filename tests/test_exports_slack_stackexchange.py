import json
import math
from pathlib import Path
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.records import Document, Person
from ingest.exports import detect, read_export, slack, stackexchange
from ingest.readers.base import Problem

# 2024-03-14 07:06:40 UTC, then a day and a bit later.
DAY1, DAY2 = "1710400000", "1710490000"
USERS = [
    {"id": "U024BE7LH", "name": "ana", "tz": "Europe/Lisbon",
     "profile": {"real_name": "Ana Lima", "email": "ana@example.com", "title": "SRE"}},
    {"id": "U2", "name": "bo", "deleted": True, "profile": {"display_name": "Bo"}},
    {"id": "U3", "name": "cy", "real_name": "Cy Diaz"},
    {"id": "B1", "name": "ci", "is_bot": True, "profile": {"real_name": "CI"}},
    {"id": "USLACKBOT", "name": "slackbot", "profile": {"real_name": "Slackbot"}},
]


def msg(user: str, text: str, ts: str, thread: str | None = None, **more) -> dict:
    return {"type": "message", "user": user, "text": text, "ts": ts,
            **({"thread_ts": thread} if thread else {}), **more}


def slack_export(root: Path, days: dict[str, list | str], users: list = USERS,
                 channels: list | None = None) -> Path:
    """A Slack export in ``root``: ``days`` maps "channel/2024-03-14" to its messages
    (or to raw text, for a broken file)."""
    root.mkdir(exist_ok=True)
    (root / "users.json").write_text(json.dumps(users))
    (root / "channels.json").write_text(json.dumps(
        channels if channels is not None else [{"id": "C1", "name": "general"}]))
    for name, content in days.items():
        path = root / f"{name}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return root


def records(folder: Path, source: str) -> tuple[list[Person], list[Document], list[Problem]]:
    items = list(read_export(folder, "ex", source))
    return ([i for i in items if isinstance(i, Person)],
            [i for i in items if isinstance(i, Document)],
            [i for i in items if isinstance(i, Problem)])


# -- Slack ----------------------------------------------------------------------


def test_slack_accounts_keep_deleted_users_and_skip_bots(tmp_path):
    people, _, problems = records(slack_export(tmp_path / "ws", {}), "slack")
    assert problems == []
    assert [(p.id, p.name, p.email, p.title, p.aliases, p.system) for p in people] == [
        ("slack-U024BE7LH", "Ana Lima", "ana@example.com", "SRE", ("U024BE7LH",), "slack"),
        ("slack-U2", "Bo", None, None, ("U2",), "slack"),
        ("slack-U3", "Cy Diaz", None, None, ("U3",), "slack"),
    ]
    assert people[0].timezone == "Europe/Lisbon"
    assert people[0].source == str(tmp_path / "ws" / "users.json")


def test_a_thread_is_one_document_even_when_replies_are_in_the_next_days_file(tmp_path):
    parent = f"{DAY1}.000100"
    folder = slack_export(tmp_path / "ws", {
        "general/2024-03-14": [
            msg("U024BE7LH", "How do we rotate the Kafka certs?\nThey expire Friday.",
                parent, parent, reply_count=2),
            msg("U2", "x", f"{DAY1}.000200", subtype="channel_join"),
        ],
        "general/2024-03-15": [
            msg("U3", "The cert-manager job renews them weekly.", f"{DAY2}.000300", parent),
            msg("U2", "And <@U3> wrote the runbook.", f"{DAY2}.000200", parent),
        ],
    })
    _, [doc], _ = records(folder, "slack")
    assert doc.id == f"ex/general/{parent}"
    assert doc.title == "How do we rotate the Kafka certs?"
    assert doc.body == ("Ana Lima: How do we rotate the Kafka certs?\nThey expire Friday.\n\n"
                        "Bo: And Cy Diaz wrote the runbook.\n\n"
                        "Cy Diaz: The cert-manager job renews them weekly.")
    # The asker counts 0 (somebody else replied); the repliers 1, in order of their replies.
    assert doc.authors == ("slack-U024BE7LH", "slack-U2", "slack-U3")
    assert doc.author_weights == (0.0, 1.0, 1.0)
    assert doc.tags == ("general",)
    assert doc.updated_at == "2024-03-15"  # the last reply, in UTC
    assert doc.source == str(folder / "general" / "2024-03-14.json")


@pytest.mark.parametrize(("replies", "weights"), [
    # Only the asker replied: nobody else answered, so it is their own post.
    ([("U024BE7LH", "Found it: the job runs on Mondays.")], (1.0,)),
    # The asker replied too, but so did somebody else: still 0.
    ([("U3", "Ask the platform team."), ("U024BE7LH", "Thanks, I will ask them.")],
     (0.0, 1.0)),
])
def test_the_askers_weight(tmp_path, replies, weights):
    parent = f"{DAY1}.000100"
    messages = [msg("U024BE7LH", "Where do the cert jobs run?", parent, parent)]
    messages += [msg(u, t, f"{DAY1}.00020{i}", parent) for i, (u, t) in enumerate(replies)]
    _, [doc], _ = records(slack_export(tmp_path / "ws", {"general/2024-03-14": messages}),
                          "slack")
    assert doc.author_weights == weights
    assert doc.authors[0] == "slack-U024BE7LH"


def test_a_message_nobody_replied_to_is_a_document_only_with_five_words(tmp_path):
    folder = slack_export(tmp_path / "ws", {"general/2024-03-14": [
        msg("U3", "thanks all!", f"{DAY1}.000100"),
        msg("U3", "Deploys freeze from Friday noon onwards.", f"{DAY1}.000200"),
        msg("B1", "Build 42 passed on main today, congrats.", f"{DAY1}.000300"),
        {"type": "message", "subtype": "bot_message", "bot_id": "B9",
         "text": "Build 43 passed on main today too.", "ts": f"{DAY1}.000400"},
        msg("USLACKBOT", "Reminder: submit your timesheets by Friday please.",
            f"{DAY1}.000500"),
    ]})
    _, docs, _ = records(folder, "slack")
    # The CI bot's message is read (a user id, no bot subtype) but is nobody's evidence.
    assert [(d.id, d.authors, d.author_weights) for d in docs] == [
        (f"ex/general/{DAY1}.000200", ("slack-U3",), (1.0,)),
        (f"ex/general/{DAY1}.000300", (), ()),
    ]
    assert docs[0].body == "Cy Diaz: Deploys freeze from Friday noon onwards."


@pytest.mark.parametrize(("text", "clean"), [
    ("ping <@U024BE7LH> and <@U404>", "ping Ana Lima and @U404"),
    ("in <#C1|general> and <#C1>", "in #general and #general"),
    ("see <https://wiki.example.com/a?b=1&amp;c=2|the runbook>", "see the runbook"),
    ("see <https://wiki.example.com/a?b=1&amp;c=2>", "see https://wiki.example.com/a?b=1&c=2"),
    ("mail <mailto:ops@example.com>", "mail ops@example.com"),
    ("<!here> *bold* and _italic_", "@here *bold* and _italic_"),
    ("<!subteam^S1|@sre> a &lt; b &amp;&amp; c &gt; d", "@sre a < b && c > d"),
    ("literal &amp;lt;", "literal &lt;"),
])
def test_slack_markup_becomes_plain_text(text, clean):
    markup = slack.Markup({"U024BE7LH": "Ana Lima"}, {"C1": "general"})
    assert markup.clean(text) == clean


def test_a_broken_daily_file_is_a_problem_and_the_rest_is_read(tmp_path):
    folder = slack_export(tmp_path / "ws", {
        "general/2024-03-14": "[{not json",
        "general/2024-03-15": [msg("U3", "Deploys freeze from Friday noon.", f"{DAY2}.000100")],
    })
    people, docs, problems = records(folder, "slack")
    assert [p.file for p in problems] == [str(folder / "general" / "2024-03-14.json")]
    assert problems[0].reason.startswith("invalid JSON")
    assert [d.id for d in docs] == [f"ex/general/{DAY2}.000100"] and len(people) == 3


def test_only_public_channels_inside_the_export_are_read(tmp_path):
    text = "Deploys freeze from Friday noon onwards."
    other = slack_export(tmp_path / "other", {"x/2024-03-14": [msg("U3", text, f"{DAY1}.3")]})
    folder = slack_export(
        tmp_path / "ws", {"general/2024-03-14": [msg("U3", text, f"{DAY1}.000100")],
                          "secret/2024-03-14": [msg("U3", text, f"{DAY1}.000200")]},
        channels=[{"id": "C1", "name": "general"}, {"id": "C2", "name": "../other/x"},
                  {"id": "C3", "name": "linked"}, {"id": "C4", "name": ".."}])
    (folder / "groups.json").write_text(json.dumps([{"id": "G1", "name": "secret"}]))
    (folder / "linked").symlink_to(other / "x")
    (folder / "general" / "2024-03-15.json").symlink_to(other / "x" / "2024-03-14.json")
    _, docs, problems = records(folder, "slack")
    assert [d.id for d in docs] == [f"ex/general/{DAY1}.000100"]
    # A link inside the export is not followed, and says so.
    assert [(p.file, p.reason) for p in problems] == [
        (str(folder / "general" / "2024-03-15.json"), "a link inside an export: not followed")]


def test_slack_detection(tmp_path):
    assert slack.detect(slack_export(tmp_path / "ws", {}))
    assert detect(tmp_path / "ws") == "slack"
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "users.json").write_text("[]")
    assert not slack.detect(plain)
    assert not slack.detect(tmp_path / "missing")


# -- Stack Exchange -------------------------------------------------------------


def row(**attrs: str) -> str:
    return "  <row " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + " />\n"


def dump(folder: Path, name: str, rows: list[str], tag: str = "posts") -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f'<?xml version="1.0" encoding="utf-8"?>\n<{tag}>\n{"".join(rows)}</{tag}>\n')
    return path


# An answer listed before its question, an accepted one, a downvoted one, the Community
# bot's, and one whose question is not in the dump.
POSTS = [
    row(Id="11", PostTypeId="2", ParentId="10", Score="12", OwnerUserId="7",
        Body="<p>Use <code>adb</code> over USB.</p><pre>adb devices</pre>",
        CreationDate="2019-01-03T03:04:05.678"),
    row(Id="10", PostTypeId="1", AcceptedAnswerId="11", Score="3", Title="How to connect adb?",
        Tags="<adb><usb>", Body="<p>My phone is not found.</p>", OwnerUserId="5",
        CreationDate="2019-01-02T03:04:05.678"),
    row(Id="12", PostTypeId="2", ParentId="10", Score="-2", OwnerUserId="8",
        OwnerDisplayName="Dee", Body="<p>Reboot &amp; retry.</p>",
        CreationDate="2019-01-04T00:00:00.000"),
    row(Id="14", PostTypeId="2", ParentId="10", Score="0", OwnerUserId="-1",
        Body="<p>Community wiki.</p>", CreationDate="2019-01-05T00:00:00.000"),
    row(Id="13", PostTypeId="2", ParentId="99", Score="0", OwnerUserId="7",
        Body="<p>Orphan.</p>", CreationDate="2020-02-02T00:00:00.000"),
    row(Id="15", PostTypeId="4", Body="<p>A tag wiki.</p>"),
]
USERS_XML = [
    row(Id="-1", DisplayName="Community"),
    row(Id="5", DisplayName="Eve", Location="Porto", AboutMe="<p>Android <b>dev</b>.</p>"),
    row(Id="7", DisplayName="Sam"),
]


def test_stackexchange_documents(tmp_path):
    posts = dump(tmp_path / "dump", "Posts.xml", POSTS)
    dump(tmp_path / "dump", "Users.xml", USERS_XML, "users")
    _, docs, problems = records(tmp_path / "dump", "stackexchange")
    assert problems == []
    w11 = stackexchange.answer_weight(True, 12)
    w12 = stackexchange.answer_weight(False, -2)
    assert [(d.id, d.title, d.body, d.authors, d.author_weights, d.tags, d.updated_at)
            for d in docs] == [
        ("ex/a11", "How to connect adb?", "Use adb over USB.\n\nadb devices", ("se-7",),
         (w11,), ("adb", "usb"), "2019-01-03"),
        ("ex/q10", "How to connect adb?", "My phone is not found.", ("se-5",), (0.0,),
         ("adb", "usb"), "2019-01-02"),
        ("ex/a12", "How to connect adb?", "Reboot & retry.", ("se-8",), (w12,),
         ("adb", "usb"), "2019-01-04"),
        ("ex/a14", "How to connect adb?", "Community wiki.", (), (), ("adb", "usb"),
         "2019-01-05"),
        ("ex/a13", "(question not in the dump)", "Orphan.", ("se-7",),
         (stackexchange.answer_weight(False, 0),), (), "2020-02-02"),
    ]
    assert {d.source for d in docs} == {str(posts)}
    assert docs[0].extra == {"score": 12, "accepted": True}


def test_stackexchange_people_from_users_xml(tmp_path):
    dump(tmp_path / "dump", "Posts.xml", POSTS)
    users = dump(tmp_path / "dump", "Users.xml", USERS_XML, "users")
    people, _, _ = records(tmp_path / "dump", "stackexchange")
    # Dee (8) posted but is not in Users.xml: an account from the post's display name.
    assert [(p.id, p.name, p.bio, p.location, p.aliases, p.system, p.source)
            for p in people] == [
        ("se-5", "Eve", "Android dev.", "Porto", ("5",), "stackexchange", str(users)),
        ("se-7", "Sam", None, None, ("7",), "stackexchange", str(users)),
        ("se-8", "Dee", None, None, ("8",), "stackexchange", str(tmp_path / "dump/Posts.xml")),
    ]


def test_stackexchange_without_users_xml_makes_an_account_per_poster(tmp_path):
    dump(tmp_path / "dump", "posts.xml", POSTS)
    people, docs, _ = records(tmp_path / "dump", "stackexchange")
    assert [(p.id, p.name, p.aliases) for p in people] == [
        ("se-7", "User 7", ("7",)), ("se-5", "User 5", ("5",)), ("se-8", "Dee", ("8",))]
    assert len(docs) == 5


@pytest.mark.parametrize(("value", "tags"), [
    ("<android><adb>", ("android", "adb")), ("|android|adb|", ("android", "adb")),
    ("", ()), (None, ()),
])
def test_stackexchange_tags_in_both_spellings(value, tags):
    assert stackexchange.tags(value) == tags


def test_broken_xml_is_a_problem_after_the_rows_before_it(tmp_path):
    folder = tmp_path / "dump"
    path = dump(folder, "Posts.xml", [*POSTS[:2], "  <row Id='16' <oops\n"])
    _, docs, problems = records(folder, "stackexchange")
    assert [d.id for d in docs] == ["ex/a11", "ex/q10"]
    assert [p.file for p in problems] == [str(path)] and "invalid XML" in problems[0].reason


def test_stackexchange_detection(tmp_path):
    assert not stackexchange.detect(tmp_path)
    dump(tmp_path / "a", "Posts.xml", [])
    dump(tmp_path / "b", "posts.xml", [])
    dump(tmp_path / "c", "Users.xml", [], "users")
    assert stackexchange.detect(tmp_path / "a") and stackexchange.detect(tmp_path / "b")
    assert not stackexchange.detect(tmp_path / "c")
    assert detect(tmp_path / "a") == "stackexchange"


@given(accepted=st.booleans(), low=st.integers(-10**6, 10**6), high=st.integers(-10**6, 10**6),
       bonus=st.sampled_from([None, 0.0, 0.5]), scale=st.sampled_from([None, 0.0, 0.25]))
def test_answer_weights_are_positive_and_monotone(accepted, low, high, bonus, scale):
    low, high = sorted((low, high))

    def weight(accepted: bool, score: int) -> float:
        return stackexchange.answer_weight(accepted, score, bonus, scale)

    assert 0 < weight(accepted, low) <= weight(accepted, high)
    assert math.isfinite(weight(accepted, high))
    assert weight(True, low) >= weight(False, low)
    if bonus:
        assert weight(True, low) > weight(False, low)
    if low < 0 <= high:
        assert weight(accepted, low) < weight(accepted, high)  # a downvote always costs


def test_answer_weight_values():
    # 1 for a plain answer; votes add scale * ln(1 + score); acceptance adds the bonus.
    weight = stackexchange.answer_weight
    assert weight(False, 0) == 1.0
    assert weight(False, 3, scale=0.5) == pytest.approx(1 + 0.5 * math.log(4))
    assert weight(True, 3, bonus=0.4, scale=0.5) == pytest.approx(1.4 + 0.5 * math.log(4))
    # A negative score divides instead: less than a plain answer, never 0.
    assert weight(False, -3, downvote=0.5) == pytest.approx(1 / (1 + 0.5 * math.log(4)))


def test_default_answer_weights():
    # Chosen on dev: acceptance and upvotes add nothing; a downvote still costs.
    weight = stackexchange.answer_weight
    assert weight(True, 264) == weight(False, 4) == 1.0
    assert weight(False, -3) == pytest.approx(1 / (1 + math.log(4)))
