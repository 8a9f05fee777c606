"""Who hears about a flash sale: the readiness team, the teams a surge reaches, the sale's own people."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from flashsales.roles import catalog_people, ratelimit_team
from flashsales.settings import Settings
from flashsales.views import RequestDetail
from notifications import audience


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


def by_channel(engine: Engine, settings: Settings, people: list[str]) -> dict[str, list[str]]:
    """The routing chain each person is reached through (``notifications.routing``).

    The readiness team through ``role:readiness_team``, the rate-limit team through
    ``role:ratelimit_team``, an impacted team's people through their team's chain
    (team, group, domain), anyone else (the request's own people) through the
    default channel (chain ``""``). Each falls back to the default when its
    routing names no channel.
    """
    import readiness  # imported on first use: the CLI starts faster without it

    readiness_people, ratelimit_people = set(readiness_team(engine)), ratelimit_team(engine, settings)
    owners = readiness.ownership(engine)
    teams = {s.team for s in readiness.active_systems(engine) if s.traffic_class == "FLAS"}
    contacts = readiness.team_contacts(engine)
    team_of = {}
    for team in sorted(teams & contacts.keys()):
        chain = audience(("team", team), ("group", owners.teams.get(team, {}).get("group")),
                         ("domain", owners.teams.get(team, {}).get("domain")))
        for person in contacts[team].leads + contacts[team].oncall or contacts[team].members:
            team_of.setdefault(person, chain)
    routed: dict[str, list[str]] = {}
    for person in sorted(set(people)):
        if person in readiness_people:
            chain = "role:readiness_team"
        elif person in ratelimit_people:
            chain = "role:ratelimit_team"
        else:
            chain = team_of.get(person, "")
        routed.setdefault(chain, []).append(person)
    return routed
