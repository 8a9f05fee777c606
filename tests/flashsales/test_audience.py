"""Who hears about a flash-sale decision: leads and on-call of the teams a surge reaches."""

from __future__ import annotations

import readiness
from flashsales.audiences import impacted_people
from storage import get_engine


def test_decisions_reach_leads_and_oncall_of_flas_teams_and_not_every_member(demo_db):
    engine = get_engine(demo_db)
    flas_teams = {s.team for s in readiness.active_systems(engine) if s.traffic_class == "FLAS"}
    baseline_only = {s.team for s in readiness.active_systems(engine)} - flas_teams
    contacts = readiness.team_contacts(engine)
    audience = set(impacted_people(engine))
    for team in flas_teams:
        assert set(contacts[team].leads) | set(contacts[team].oncall) <= audience
    plain_members = {m for t in flas_teams for m in contacts[t].members
                     if m not in contacts[t].leads and m not in contacts[t].oncall}
    others = {m for t in baseline_only for m in contacts[t].members}
    assert plain_members, "the demo has members who are neither lead nor on-call"
    assert not (plain_members - others) & audience
