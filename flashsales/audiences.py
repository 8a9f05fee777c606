"""Who hears about a flash sale: the readiness team, the teams a surge reaches, the sale's own people."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from flashsales.roles import catalog_people
from flashsales.views import RequestDetail


def readiness_team(engine: Engine) -> list[str]:
    return sorted(u for u, roles in catalog_people(engine).items() if "readiness_team" in roles)


def impacted_people(engine: Engine) -> list[str]:
    """Accountable leads and on-call of the teams whose systems a surge reaches.

    FLAS systems are the purchase flow and everything it calls synchronously:
    the surge of a flash sale arrives at all of them within the same minutes.
    A team that names neither leads nor on-call is reached through its members.
    """
    import readiness  # imported on first use: the CLI starts faster without it

    teams = {s.team for s in readiness.active_systems(engine) if s.traffic_class == "FLAS"}
    contacts = readiness.team_contacts(engine)
    people: set[str] = set()
    for team in teams & contacts.keys():
        accountable = contacts[team].leads + contacts[team].oncall
        people.update(accountable or contacts[team].members)
    return sorted(people)


def stakeholders(detail: RequestDetail) -> set[str]:
    """The people named on the request."""
    r = detail.request
    return {r.reporter, r.key_account_manager, r.solution_engineer}


def decision_audience(engine: Engine, detail: RequestDetail) -> list[str]:
    """Everyone a decision concerns: impacted teams, the request's people, the readiness team."""
    return sorted(set(impacted_people(engine)) | stakeholders(detail) | set(readiness_team(engine)))
