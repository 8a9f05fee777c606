"""Review and waiver decisions reach the requesting team's channel, and the requester by e-mail."""

from __future__ import annotations

from datetime import timedelta

from governance import approve_waiver, reject_review, request_waiver, revoke_waiver, submit_review
from readiness import load_rules
from readiness.reports import results
from storage import utcnow
from tests.notifications.sinks import webhook_sink
from tests.readiness.helpers import write_yaml

RULES = load_rules()
ANSWER = "Written down, rehearsed with the team and linked from the wiki page."


def routing(tmp_path, sink) -> str:
    doc = {"teams": {"checkout": sink.url("checkout"), "fraud": sink.url("fraud")},
           "default": sink.url("default"), "people": {"cy": "cy@corp.example"}}
    return str(write_yaml(tmp_path / "routing.yaml", doc))


def waivable_failure(engine, system_id: str) -> str:
    for result in results(engine, system_id=system_id, statuses=("fail", "no_data")):
        meta = RULES.by_id().get(result.rule_id)
        if meta and meta.meta.waivable and meta.meta.kind == "automated":
            return result.rule_id
    raise AssertionError(f"no waivable failure on {system_id}")


def test_waiver_and_review_decisions_go_to_the_owning_team_and_the_requester(sqlite_org, tmp_path, smtp_sink,
                                                                           monkeypatch):
    _url, engine, _inventory = sqlite_org
    now = utcnow()
    with webhook_sink() as sink:
        monkeypatch.setenv("PEAK_NOTIFY_ROUTING", routing(tmp_path, sink))
        for name, value in (("HOST", smtp_sink.host), ("PORT", str(smtp_sink.port)), ("MODE", "insecure")):
            monkeypatch.setenv(f"PEAK_SMTP_{name}", value)
        rule = waivable_failure(engine, "SYS-1")
        waiver = request_waiver(engine, "SYS-1", rule, actor_name="cy", reason="Needs the platform migration",
                                expires=(now + timedelta(days=30)).date(), ruleset=RULES, now=now)
        assert sink.posts == {}  # a request is not a decision
        approve_waiver(engine, waiver["id"], actor_name="ada", ruleset=RULES, now=now)
        revoke_waiver(engine, waiver["id"], actor_name="ada", reason="The migration is done now", now=now)
        questions = RULES.by_id()["peak_plan_review"].meta.questions
        review = submit_review(engine, "SYS-2", "peak_plan_review", actor_name="eve",
                               answers={str(n): ANSWER for n in range(1, len(questions) + 1)},
                               evidence=["https://wiki.example/sys-2"], ruleset=RULES, now=now)
        reject_review(engine, review["id"], actor_name="bob", comment="The plan has no rollback step yet.", now=now)
        assert sink.titles("checkout") == [f"Waiver {waiver['id']} approved: SYS-1 {rule} through "
                                           f"{waiver['expires']}", f"Waiver {waiver['id']} revoked: SYS-1 {rule}"]
        assert sink.titles("fraud") == [f"Review {review['id']} rejected: peak_plan_review for SYS-2"]
        assert "default" not in sink.posts  # nobody else hears of it
        fraud = sink.posts["fraud"][0]["message"]
        assert "What to fix: The plan has no rollback step yet." in fraud and "None" not in fraud
        mails = smtp_sink.wait_for(2)
        assert [(m.recipients, m.subject) for m in mails] == [(["cy@corp.example"], t) for t in sink.titles("checkout")]
