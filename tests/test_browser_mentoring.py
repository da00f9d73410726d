"""Mentoring in a real browser (see tests/test_browser.py for the set-up): a person
asks a mentor from the mentors page and sees the relationship; L&D reads the report."""

from __future__ import annotations

import pytest
from test_browser import browser, chromium, page, server, shoot, shots  # noqa: F401

from indexer.keys import KeyRing

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def use_key(tab, secret: str) -> None:
    tab.goto("/key")
    tab.get_by_label("API key").fill(secret)
    tab.get_by_role("button", name="Use this key").click()
    tab.wait_for_url("**/")


def test_a_mentee_asks_for_a_mentor_and_l_and_d_reads_the_report(shots, page, server):  # noqa: F811
    _, state = server
    ring = KeyRing(state.runtime.store)
    with state.lock:  # the server's threads share the store's connection
        mentee_key, mentee = ring.add("reader", name="Grace", person_id="p-grace-mwangi")
        admin_key, admin = ring.add("admin", name="L&D")
    try:
        use_key(page, mentee)
        page.get_by_role("link", name="Find a mentor").click()
        page.get_by_label("What do you want to learn?").fill("kafka")
        page.get_by_label("What do you want to learn?").press("Enter")
        card = page.locator("ol.experts li.expert").first
        name = card.locator("h3 a").inner_text()
        card.get_by_role("button", name=f"Ask {name} to mentor me").click()
        page.wait_for_url("**/mentoring?made=*")
        row = page.locator("table.relationships tbody tr").first
        assert name in row.inner_text() and "Grace Mwangi" in row.inner_text()
        assert row.locator("td.state").inner_text().startswith("proposed")
        shoot(page, "mentoring", shots)
        use_key(page, admin)
        page.get_by_role("link", name="Mentoring").click()
        page.get_by_role("link", name="The programme report").click()
        assert page.get_by_role("heading", name="Mentoring programme report").is_visible()
        assert page.locator("h2").first.inner_text() == "1 relationship"
        shoot(page, "mentoring-report", shots)
    finally:
        with state.lock:
            ring.revoke(mentee_key.id)  # back to open mode
            ring.revoke(admin_key.id)
