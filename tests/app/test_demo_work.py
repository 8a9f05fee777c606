"""Every demo login has work, as docs/app.md promises: the demo architect (an architect of any
domain, since the demo picks the domain of its worst system) finds reviews and waivers of their
domain waiting for their decision."""

from __future__ import annotations

import governance
import readiness
from app import permissions
from app.auth import User
from app.users import demo_users
from storage import get_engine
from tests.app.conftest import no_exceptions, open_app, texts


def _first_architects(engine) -> dict[str, str]:
    """Each domain's first architect by name, as the demo logins pick them."""
    first: dict[str, str] = {}
    for user, roles in sorted(readiness.people(engine).items()):
        for role in roles:
            if role.startswith("architect:"):
                first.setdefault(role.split(":", 1)[1], user)
    return first


def test_every_domain_architect_has_a_review_and_a_waiver_to_decide_on_the_demo(demo_db):
    engine = get_engine(demo_db)
    people = readiness.people(engine)
    domain_of = {s.system_id: s.domain for s in readiness.active_systems(engine)}
    reviews, waivers = governance.list_reviews(engine), governance.list_waivers(engine)
    idle = []
    for domain, name in _first_architects(engine).items():
        if domain not in set(domain_of.values()):
            continue
        user = User(name, name, frozenset(people[name]))
        decidable = [r for r in reviews if domain_of.get(r["system_id"]) == domain
                     and permissions.may_decide_review(user, r, domain=domain)]
        approvable = [w for w in waivers if domain_of.get(w["system_id"]) == domain
                      and permissions.may_approve_waiver(user, w, domain=domain)]
        if not decidable or not approvable:
            idle.append((domain, name, len(decidable), len(approvable)))
    assert not idle, f"architects without work (domain, user, reviews, waivers): {idle}"


def test_the_demo_architect_sees_work_waiting_in_the_queue(app_env, demo_db):
    app_env(demo_db)
    architect = next(u.username for u in demo_users(get_engine(demo_db)) if u.role == "architect")
    at = open_app("views/reviews.py", user=architect)
    no_exceptions(at)
    assert int(next(m for m in at.metric if m.label == "For you to decide").value) >= 2
    assert "Nothing waits for your decision" not in texts(at)
    assert not at.tabs[0].label.startswith("Review queue (0 ")
    assert not at.tabs[1].label.startswith("Waivers (0 ")
