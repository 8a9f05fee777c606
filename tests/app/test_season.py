"""The season page: everyone reads the season, its milestones, progress and report; the readiness
team and admins create, change and close seasons through readiness.seasons (recorded there);
anyone else is offered no form, and a forged write is refused with nothing stored."""

from __future__ import annotations

from datetime import date

import pytest

import readiness
from app import actions
from app.auth import User
from app.users import demo_users
from storage import get_engine
from tests.app.conftest import no_exceptions, open_app, texts

PAGE = "views/season.py"


@pytest.fixture
def org(app_env, writable_demo):
    """The writable demo (its season created as a user would) and one demo login per role."""
    app_env(writable_demo)
    engine = get_engine(writable_demo)
    return engine, {u.role: u for u in demo_users(engine)}


def _buttons(at) -> set[str]:
    return {b.label for b in at.button}


def _form_input(at, form: str, label: str):
    return next(w for kind in ("text_input", "date_input", "number_input")
                for w in getattr(at, kind) if w.label == label and str(w.form_id) == form)


def test_a_viewer_reads_the_current_season_its_milestones_and_report_but_gets_no_form(org):
    engine, users = org
    season = readiness.current_season(engine)
    at = open_app(PAGE, user=users["viewer"].username)
    no_exceptions(at)
    shown = texts(at)
    assert f"target 100% by {season.target_date.isoformat()}" in shown
    assert f"Peak window {season.starts_on.isoformat()} to {season.ends_on.isoformat()}" in shown
    labels = {m.label: m.value for m in at.metric}
    progress = readiness.progress(engine, season=season.key)
    assert labels["Season score"] == f"{progress['score']:.1f}%"
    due = readiness.due_dates(season, (r.meta for r in readiness.load_rules([]).rules))
    table = at.dataframe[0].value
    assert sorted(str(d)[:10] for d in table["Due"]) == sorted({d.isoformat() for d in due.values()})
    assert "only the readiness team and admins" in shown
    assert not _buttons(at) & {"Create season", "Save changes", "Close season"}
    downloads = at.get("download_button")
    assert len(downloads) == 2
    assert "# Season report:" in texts(at) or any("Season report" in e.value for e in at.markdown)


@pytest.mark.parametrize("role", ["owner", "architect"])
def test_other_roles_get_no_form_and_a_forged_write_is_refused(org, role):
    engine, users = org
    login = users[role]
    at = open_app(PAGE, user=login.username)
    no_exceptions(at)
    assert not _buttons(at) & {"Create season", "Save changes", "Close season"}
    user = User(login.username, login.name, frozenset(readiness.people(engine).get(login.username, set())))
    key = readiness.current_season(engine).key
    before = readiness.season_history(engine, key)
    forged = actions.update_season(user, key, {"target_score": 50.0})
    assert not forged.ok and forged.message.startswith("Not allowed")
    assert not actions.close_season(user, key).ok
    created = actions.create_season(user, {"key": "peak-2099", "name": "Forged", "starts_on": date(2099, 11, 27),
                                           "ends_on": date(2099, 12, 31), "target_date": date(2099, 10, 31)})
    assert not created.ok
    assert readiness.season_history(engine, key) == before
    assert [s.key for s in readiness.list_seasons(engine)] == [key]


def test_the_readiness_team_changes_the_season_and_the_change_is_recorded_as_them(org):
    engine, users = org
    team = users["readiness_team"]
    key = readiness.current_season(engine).key
    at = open_app(PAGE, user=team.username)
    no_exceptions(at)
    form = f"season_update_{key}"
    _form_input(at, form, "Target score").set_value(95.0)
    _form_input(at, form, "Move milestones").set_value("capacity=-8w")
    next(b for b in at.button if b.label == "Save changes").click().run()
    no_exceptions(at)
    assert f"Season {key} saved" in texts(at)
    season = readiness.get_season(engine, key)
    assert season.target_score == 95.0 and season.milestones["capacity"] == -56
    change = readiness.season_history(engine, key)[-1]
    assert (change["actor"], change["action"]) == (team.username, "updated")
    changes = at.dataframe[-1].value
    assert changes["Who"].iloc[-1] == team.username and "target score: 100.0 → 95.0" in changes["Changed"].iloc[-1]


def test_an_admin_creates_and_closes_a_season(org):
    engine, users = org
    admin = users["admin"]
    at = open_app(PAGE, user=admin.username)
    form = "season_create"
    _form_input(at, form, "Key").set_value("peak-2030")
    _form_input(at, form, "Name").set_value("Peak 2030")
    _form_input(at, form, "Peak window starts").set_value(date(2030, 11, 29))
    _form_input(at, form, "Peak window ends").set_value(date(2030, 12, 31))
    _form_input(at, form, "Target date").set_value(date(2030, 10, 31))
    next(b for b in at.button if b.label == "Create season").click().run()
    no_exceptions(at)
    assert "Season peak-2030 created" in texts(at)
    created = readiness.get_season(engine, "peak-2030")
    assert (created.name, created.target_date, created.target_score) == ("Peak 2030", date(2030, 10, 31), 100.0)
    assert readiness.season_history(engine, "peak-2030")[0]["actor"] == admin.username

    at = open_app(PAGE, user=admin.username, query={"key": "peak-2030"})
    box = next(c for c in at.checkbox if c.label == "Close Peak 2030 (peak-2030)")
    box.check()
    next(b for b in at.button if b.label == "Close season").click().run()
    no_exceptions(at)
    assert readiness.get_season(engine, "peak-2030").closed_at is not None
    assert readiness.season_history(engine, "peak-2030")[-1]["action"] == "closed"


def test_bad_input_names_the_field_and_stores_nothing(org):
    engine, users = org
    team = users["readiness_team"]
    at = open_app(PAGE, user=team.username)
    form = "season_create"
    _form_input(at, form, "Key").set_value("peak-2031")
    _form_input(at, form, "Name").set_value("Peak 2031")
    _form_input(at, form, "Peak window starts").set_value(date(2031, 12, 31))
    _form_input(at, form, "Peak window ends").set_value(date(2031, 11, 28))
    _form_input(at, form, "Target date").set_value(date(2031, 10, 31))
    next(b for b in at.button if b.label == "Create season").click().run()
    no_exceptions(at)
    shown = "\n".join(e.value for e in at.error)
    assert "Not saved" in shown and "peak window" in shown and "None" not in shown
    with pytest.raises(readiness.NotFound):
        readiness.get_season(engine, "peak-2031")


def test_without_a_season_the_readiness_team_is_offered_the_create_form(app_env, sqlite_url, tmp_path):
    from tests.readiness.helpers import catalog_doc, write_yaml

    engine = readiness.open_database(get_engine(sqlite_url))
    readiness.import_catalog_file(engine, write_yaml(tmp_path / "c.yaml", catalog_doc(readiness_team=["rita"])))
    app_env(sqlite_url)
    at = open_app(PAGE, user="rita")
    no_exceptions(at)
    assert "No season yet" in texts(at) and "Create season" in _buttons(at)
    viewer = open_app(PAGE, user="cy")
    assert "The readiness team creates it" in texts(viewer) and "Create season" not in _buttons(viewer)
