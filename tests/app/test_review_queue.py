"""The review queue: every review reachable through its pages, bulk decisions by the readiness
team decided and audited one by one, nothing to decide for a viewer."""

from __future__ import annotations

import re

import pytest

import governance
from app.users import demo_users
from storage import get_engine
from tests.app.conftest import no_exceptions, open_app


@pytest.fixture
def org(app_env, writable_demo):
    app_env(writable_demo)
    engine = get_engine(writable_demo)
    governance.seed_demo_governance(engine)
    return engine, {u.role: u for u in demo_users(engine)}


def _shown_ids(at) -> list[int]:
    return [int(m.group(1)) for e in at.markdown if (m := re.match(r"\*\*Review (\d+)\*\*", e.value))]


def _queue(user: str):
    at = open_app("views/reviews.py", user=user)
    no_exceptions(at)
    at.multiselect(key="queue_states").set_value([]).run()  # every state
    no_exceptions(at)
    return at


def test_every_review_is_reachable_through_the_pages(org):
    engine, _users = org
    every = {r["id"] for r in governance.list_reviews(engine)}
    assert len(every) > 20, "the demo should need more than one page"
    at = _queue("viewer")
    seen: list[int] = []
    label = next(c.value for c in at.caption if c.value.startswith("Reviews 1–20 of "))
    assert label.startswith(f"Reviews 1–20 of {len(every)}")
    while True:
        seen += _shown_ids(at)
        following = next(b for b in at.button if b.key == "queue_page_next")
        if following.disabled:
            break
        following.click().run()
        no_exceptions(at)
    assert sorted(seen) == sorted(every) and len(seen) == len(every)


def test_sorting_by_criticality_puts_critical_systems_first(org):
    engine, users = org
    at = _queue("viewer")
    at.selectbox(key="queue_sort").set_value("criticality").run()
    tiers = re.findall(r"\((critical|high|medium|low),", "\n".join(e.value for e in at.markdown))
    ranks = [("critical", "high", "medium", "low").index(t) for t in tiers]
    assert ranks == sorted(ranks)


def test_sorting_by_due_date_shows_and_orders_the_seasons_dates(org):
    """The due date is the current season's date of the rule (it read "due 2 weeks be": the
    offset in words cut to ten characters, and sorted as text)."""
    at = _queue("viewer")
    at.selectbox(key="queue_sort").set_value("due date").run()
    no_exceptions(at)
    due = re.findall(r" · due (\S+) · ", "\n".join(e.value for e in at.markdown))
    assert due and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in due), due
    assert due == sorted(due)


def test_a_bulk_approval_decides_exactly_the_selected_reviews_with_one_audit_entry_each(org):
    engine, users = org
    team = users["readiness_team"]
    at = open_app("views/reviews.py", user=team.username)
    no_exceptions(at)
    boxes = [c for c in at.checkbox if str(c.key).startswith("pick_")]
    assert len(boxes) >= 3, "the readiness team should have reviews to decide in the demo"
    chosen = [int(str(b.key).removeprefix("pick_")) for b in boxes[:2]]
    for box in boxes[:2]:
        box.check()
    at.run()
    audit_before = {e["id"] for e in governance.audit_log(engine)}
    others_before = {r["id"]: r["approvals"] for r in governance.list_reviews(engine) if r["id"] not in chosen}
    next(b for b in at.button if b.key == "bulk_approve").click().run()
    no_exceptions(at)
    for review_id in chosen:
        assert team.username in {a["by"] for a in governance.get_review(engine, review_id)["approvals"]}
    assert {r["id"]: r["approvals"] for r in governance.list_reviews(engine) if r["id"] not in chosen} == others_before
    new = [e for e in governance.audit_log(engine) if e["id"] not in audit_before]
    assert len(new) == len(chosen) and all(e["actor"] == team.username for e in new)
    assert any("2 of 2 reviews approved" in s.value for s in at.success)


def test_a_viewer_sees_no_decision_controls(org):
    at = _queue("viewer")
    assert not [c for c in at.checkbox if str(c.key).startswith("pick_")]
    assert not [b for b in at.button if b.label in ("Approve", "Reject", "Approve selected", "Reject selected")]
    assert not at.text_input and not at.text_area


def test_a_forged_decision_by_a_viewer_is_refused_and_writes_nothing(org):
    engine, _users = org
    from app import actions
    from app.auth import User

    pending = [r["id"] for r in governance.list_reviews(engine, state="pending")][:3]
    audit_before = len(governance.audit_log(engine))
    viewer = User("viewer", "Viewer")
    single = actions.approve_review(viewer, pending[0], "looks fine")
    bulk = actions.decide_reviews(viewer, pending, approve=True, comment="looks fine")
    assert not single.ok and single.message.startswith("Not allowed")
    assert not bulk.ok and bulk.message.startswith("0 of 3 reviews approved")
    assert all(p.startswith(f"review {i}: Not allowed") for p, i in zip(bulk.problems, pending, strict=True))
    assert len(governance.audit_log(engine)) == audit_before
    assert [r["id"] for r in governance.list_reviews(engine, state="pending")][:3] == pending
