"""Milestone nudges and overdue lists through the routing, a local webhook sink per channel."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta

import pytest

import notifications
from operations import Channel, build_digests
from operations.milestones import build_milestone_nudges, system_link
from readiness import (
    NOT_YET_MET_STATUSES,
    close_season,
    create_season,
    import_inventory_file,
    list_seasons,
    load_rules,
    ownership,
    people,
    run_evaluation,
)
from readiness.reports import results
from readiness.rulekit import CATEGORIES
from readiness.service import open_database
from storage import get_engine, utcnow
from tests.notifications.sinks import webhook_sink
from tests.ops.support import READINESS, REPO, copy_sqlite, env_for_tests
from tests.readiness.helpers import compute, write_inventory, write_yaml

RULES = load_rules()
APP = "https://peak.example"
TARGET_IN = 60  # days from today to the season's target: every category is due then, out of the nudge window


def degrade(org, *, due_in: dict[str, int]):
    """SYS-1 without health checks (health_checks fails there only), SYS-2 in one zone; a season whose
    rules are due at its target except ``due_in`` (rule -> days from today); a run now."""
    url, engine, inventory = org
    now = utcnow()
    today = now.date()
    worse = write_inventory(inventory.parent / "worse.json", [
        compute("SYS-1", "api", replicas=1, health_checks={"readiness": False, "liveness": False}),
        compute("SYS-2", "scorer", zones=["a"], autoscaling={"enabled": False}), compute("SYS-3", "mailer")])
    import_inventory_file(engine, worse, now=now - timedelta(hours=1))
    target = today + timedelta(days=TARGET_IN)
    milestones = {category: 0 for category in CATEGORIES}
    milestones.update({f"rule:{rule}": days - TARGET_IN for rule, days in due_in.items()})
    create_season(engine, actor="rita", key="peak-test", name="Peak Test", starts_on=target,
                  ends_on=target + timedelta(days=30), target_date=target, milestones=milestones,
                  now=now - timedelta(minutes=40))
    run_evaluation(engine, ruleset=RULES, now=now - timedelta(minutes=30))
    return url, engine, now


def routing_file(tmp_path, sink, **sections) -> str:
    doc = {"domains": {"pay": sink.url("pay"), "risk": sink.url("risk")}, **sections}
    return str(write_yaml(tmp_path / "routing.yaml", doc))


def teams_nudged(messages, milestone: str) -> set[str]:
    return {m.data["team"] for m in messages if m.kind == "milestone" and m.data["milestone"] == milestone}


def test_a_nudge_goes_to_exactly_the_teams_due_at_each_coming_milestone(sqlite_org):
    _url, engine, now = degrade(sqlite_org, due_in={"health_checks": 5, "perf_load_test": 10})
    messages = build_milestone_nudges(engine, now=now, app_url=APP, ruleset=RULES)
    soon, later = (now.date() + timedelta(days=d) for d in (5, 10))
    # health_checks fails on SYS-1 only (team checkout); perf_load_test on every system (both teams)
    assert teams_nudged(messages, soon.isoformat()) == {"checkout"}
    assert teams_nudged(messages, later.isoformat()) == {"checkout", "fraud"}
    assert {m.kind for m in messages} == {"milestone"}  # nothing is overdue yet
    nudge = next(m for m in messages if m.data["milestone"] == soon.isoformat())
    assert nudge.recipients == ("cy", "dee") and nudge.data["rules"] == ["health_checks"]
    assert "health_checks" in nudge.body and "What to do:" in nudge.body and "in 5 days" in nudge.subject
    assert system_link(APP, "SYS-1") in nudge.body and "SYS-2" not in nudge.body
    for message in messages:
        assert "None" not in message.body + message.subject and "(s)" not in message.body + message.subject


def test_without_a_season_or_a_coming_milestone_there_is_no_nudge(sqlite_org):
    _url, engine, _ = sqlite_org
    assert build_milestone_nudges(engine, now=utcnow(), app_url=APP, ruleset=RULES) == []
    _url, engine, now = degrade(sqlite_org, due_in={"health_checks": 30})
    assert build_milestone_nudges(engine, now=now, app_url=APP, ruleset=RULES, lead_days=14) == []


def test_after_a_milestone_the_overdue_list_goes_to_each_domain_once_while_it_does_not_change(sqlite_org, tmp_path):
    _url, engine, now = degrade(sqlite_org, due_in={"tracing": -1})
    messages = build_milestone_nudges(engine, now=now, app_url=APP, ruleset=RULES)
    overdue = {m.unit: m for m in messages if m.kind == "overdue"}
    assert set(overdue) == {"domain:pay", "domain:risk"}  # tracing fails on SYS-1 (pay) and SYS-2 (risk)
    assert overdue["domain:pay"].recipients == ("ada",) and "SYS-2" not in overdue["domain:pay"].body
    assert [o["system_id"] for o in overdue["domain:risk"].data["overdue"]] == ["SYS-2"]
    with webhook_sink() as sink:
        routing = notifications.load_routing(routing_file(tmp_path, sink), env={})
        channel = Channel([], engine=engine, routing=routing, attempts=1)
        assert {d.status for d in channel.send(messages)} == {"sent"}
        again = build_milestone_nudges(engine, now=now + timedelta(days=1), app_url=APP, ruleset=RULES)
        assert {d.status for d in channel.send(again)} == {"already sent"}  # the next day, the same list
        assert len(sink.posts["pay"]) == 1 and len(sink.posts["risk"]) == 1
        assert "overdue in domain Payments" in sink.titles("pay")[0]


def test_each_domain_channel_hears_its_digests_and_its_teams_nudges_and_nothing_else(sqlite_org, tmp_path):
    url, engine, now = degrade(sqlite_org, due_in={"health_checks": 5, "perf_load_test": 10})
    owners = ownership(engine)
    with webhook_sink() as sink:
        env = env_for_tests(PEAK_NOTIFY_ROUTING=routing_file(tmp_path, sink), PEAK_APP_URL=APP)
        env.pop("PEAK_NOTIFY_URLS", None)
        for kind in ("weekly", "milestones", "milestones"):  # the second milestones run is a restart: no resend
            done = subprocess.run([*READINESS, "digest", "--kind", kind, "--db", url, "--send"],
                                  capture_output=True, text=True, timeout=180, env=env, cwd=REPO)
            assert done.returncode == 0, done.stderr
        assert "3 messages, 0 delivered" in done.stdout + done.stderr  # the restart: all sent before
        digests = build_digests(engine, now=utcnow(), since=now - timedelta(days=7), ruleset=RULES)
        nudges = build_milestone_nudges(engine, now=now, app_url=APP, ruleset=RULES)
        for domain in ("pay", "risk"):
            teams = {key for key, team in owners.teams.items() if team["domain"] == domain}
            wanted = sorted([m.subject for m in digests if m.unit in {f"domain:{domain}"} | {f"team:{t}" for t in teams}]
                            + [m.subject for m in nudges if m.data["team"] in teams])
            assert sorted(sink.titles(domain)) == wanted and len(wanted) >= 3
        nudge_posts = [p for path in ("pay", "risk") for p in sink.posts[path] if "to meet by" in p["title"]]
        assert len(nudge_posts) == 3  # checkout twice (two milestones), fraud once
        assert set(sink.posts) == {"pay", "risk"}
    rows = notifications.list_messages(engine, source="readiness")
    assert {r["status"] for r in rows} == {"sent"}


class CrashAfter(notifications.Sender):
    """Sends through apprise, then dies (like a killed process) after ``n`` sends, before the mark."""

    def __init__(self, n: int):
        self.n = n

    def send(self, url, subject, body):
        error = super().send(url, subject, body)
        self.n -= 1
        if self.n == 0:
            raise SystemExit("killed mid-send")
        return error


def test_a_restart_mid_send_sends_no_nudge_twice(sqlite_org, tmp_path):
    _url, engine, now = degrade(sqlite_org, due_in={"health_checks": 5, "perf_load_test": 10})
    messages = build_milestone_nudges(engine, now=now, app_url=APP, ruleset=RULES)
    with webhook_sink() as sink:
        routing = notifications.load_routing(routing_file(tmp_path, sink), env={})
        with pytest.raises(SystemExit):
            Channel([], engine=engine, routing=routing, attempts=1, sender=CrashAfter(2)).send(messages)
        assert sum(len(p) for p in sink.posts.values()) == 2
        again = build_milestone_nudges(engine, now=now, app_url=APP, ruleset=RULES)
        Channel([], engine=engine, routing=routing, attempts=1).send(again)
        notifications.deliver(engine, routing, attempts=1)  # `notifications retry`: the unconfirmed one stays
        titles = [t for path in sink.posts for t in sink.titles(path)]
        assert len(titles) == len(set(titles)) == len(messages)  # every nudge once, the crashed one included
    statuses = [r["status"] for r in notifications.list_messages(engine)]
    assert statuses.count("sending") == 1 and statuses.count("sent") == len(messages) - 1


def test_the_person_gets_an_email_only_with_an_address_and_smtp_set(sqlite_org, tmp_path, smtp_sink):
    _url, engine, now = degrade(sqlite_org, due_in={"health_checks": 5})
    [nudge] = build_milestone_nudges(engine, now=now, app_url=APP, ruleset=RULES)
    with webhook_sink() as sink:
        path = routing_file(tmp_path, sink, people={"cy": "cy@corp.example"})
        env = {"PEAK_SMTP_HOST": smtp_sink.host, "PEAK_SMTP_PORT": str(smtp_sink.port), "PEAK_SMTP_MODE": "insecure",
               "PEAK_SMTP_FROM": "peak@corp.example"}
        routing = notifications.load_routing(path, env=env)
        deliveries = Channel([], engine=engine, routing=routing, attempts=1).send([nudge])
        assert [d.status for d in deliveries] == ["sent", "sent"]
        [mail] = smtp_sink.wait_for(1)
        assert mail.recipients == ["cy@corp.example"] and mail.subject == nudge.subject  # dee has no address
        assert sink.titles("pay") == [nudge.subject]
        without_smtp = notifications.load_routing(path, env={})
        assert without_smtp.emailable(["cy", "dee"]) == {}
    assert "PEAK_SMTP_HOST" not in os.environ


def test_on_the_demo_each_domain_channel_hears_its_digests_and_its_teams_nudges_only(demo_db, tmp_path):
    """The demo organisation with a season whose one near milestone is a rule some teams fail."""
    url = copy_sqlite(demo_db, tmp_path / "demo.db")
    engine = open_database(get_engine(url))
    now = utcnow()
    today = now.date()
    manager = sorted(u for u, roles in people(engine).items() if "readiness_team" in roles)[0]
    for season in list_seasons(engine):
        if season.closed_at is None:
            close_season(engine, season.key, actor=manager, now=now - timedelta(hours=2))
    run_id = run_evaluation(engine, ruleset=RULES, now=now - timedelta(hours=1)).run_id
    owners = ownership(engine)
    failing: dict[str, set[str]] = {}
    for result in results(engine, run_id=run_id, statuses=tuple(sorted(NOT_YET_MET_STATUSES))):
        failing.setdefault(result.rule_id, set()).add(owners.systems[result.system_id][0])
    active = {key for key, team in owners.teams.items() if not team["retired"]}
    rule = min((r for r, teams in failing.items() if 0 < len(teams & active) < len(active)),
               key=lambda r: (len(failing[r] & active), r))  # a rule some teams fail and others meet
    target = today + timedelta(days=TARGET_IN)
    create_season(engine, actor=manager, key="demo-nudges", name="Demo Peak", starts_on=target,
                  ends_on=target + timedelta(days=30), target_date=target,
                  milestones={**{c: 0 for c in CATEGORIES}, f"rule:{rule}": 5 - TARGET_IN},
                  now=now - timedelta(minutes=40))
    run_evaluation(engine, ruleset=RULES, now=now - timedelta(minutes=30))
    domains = sorted(key for key, d in owners.domains.items() if not d["retired"])
    with webhook_sink() as sink:
        path = write_yaml(tmp_path / "routing.yaml", {"domains": {d: sink.url(d) for d in domains}})
        env = env_for_tests(PEAK_NOTIFY_ROUTING=str(path), PEAK_APP_URL=APP)
        for kind in ("weekly", "milestones"):
            done = subprocess.run([*READINESS, "digest", "--kind", kind, "--db", url, "--send"],
                                  capture_output=True, text=True, timeout=300, env=env, cwd=REPO)
            assert done.returncode == 0, done.stderr
        nudges = build_milestone_nudges(engine, now=now, app_url=APP, ruleset=RULES)
        assert {m.data["team"] for m in nudges} == failing[rule] & active  # exactly the teams due
        digests = build_digests(engine, now=utcnow(), since=now - timedelta(days=7), ruleset=RULES)
        for domain in domains:
            teams = {key for key, team in owners.teams.items() if team["domain"] == domain}
            units = {f"domain:{domain}"} | {f"team:{t}" for t in teams}
            wanted = [m.subject for m in digests if m.unit in units] + [m.subject for m in nudges
                                                                         if m.data["team"] in teams]
            assert sorted(sink.titles(domain)) == sorted(wanted), domain
        assert set(sink.posts) <= set(domains)
        for post in (p for posts in sink.posts.values() for p in posts):
            assert "None" not in post["title"] + post["message"] and "(s)" not in post["title"] + post["message"]
