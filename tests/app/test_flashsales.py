"""The flash-sale page: the form validates field by field through flashsales' pydantic models
and service, a valid request is stored and reviewed, and only the rate-limit team decides."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

import flashsales
from flashsales import demo as flashsales_demo
from storage import get_engine
from tests.app.conftest import no_exceptions, open_app, texts


@pytest.fixture
def sales(app_env, writable_demo, tmp_path, monkeypatch):
    """The demo organisation with flashsales' demo categories, merchants and rate-limit team."""
    monkeypatch.chdir(tmp_path)
    app_env(writable_demo)
    engine = get_engine(writable_demo)
    done = flashsales_demo.run(engine, tmp_path / "demo")
    return engine, done["ratelimit_team"]


@pytest.fixture
def filer(sales) -> str:
    """A user with a role in the catalog (a system owner): viewers may not file requests."""
    from app.users import demo_users

    return next(u.username for u in demo_users(sales[0]) if u.role == "owner")


def _form(user: str):
    at = open_app("views/flashsales.py", user=user)
    at.segmented_control(key="sale_view").set_value("New request").run()
    no_exceptions(at)
    return at


def _fill_known_merchant(at, merchant: dict, *, countries: list[str], peak_rpm: float) -> None:
    at.selectbox(key="sale_known").set_value(merchant["merchant_id"]).run()
    at.text_input(key="sale_kam").set_value("kam.ella")
    at.text_input(key="sale_se").set_value("se.omar")
    at.multiselect(key="sale_countries").set_value(countries)
    at.number_input(key="sale_peak").set_value(peak_rpm)


def _submit(at):
    next(b for b in at.button if b.label == "Submit request").click().run()
    no_exceptions(at)
    return at


def test_an_invalid_request_shows_errors_next_to_its_fields_and_stores_nothing(sales, filer):
    engine, _team = sales
    at = _form(filer)
    at.text_input(key="sale_merchant_id").set_value("bad id with spaces")
    at.text_input(key="sale_kam").set_value("kam.ella")
    at.text_input(key="sale_se").set_value("se omar")
    at = _submit(at)
    errors = [e.value for e in at.error]
    assert errors[0].startswith("Not stored")
    # the pydantic model's findings, written for a person: the field, what is wrong, what to do
    assert "Merchant id is not in the expected form: use letters, digits and _ . : - only" in "\n".join(errors)
    assert "Solution engineer is not in the expected form: give a user name such as jane.doe" in "\n".join(errors)
    assert "Countries: none picked; pick at least one." in errors
    for developer_text in ("String should", "pattern", "problem(s)", "_id", "List should"):
        assert not [e for e in errors if developer_text in e], developer_text
    assert flashsales.list_requests(engine) == []


def test_a_start_in_the_past_is_refused_under_its_field(sales, filer):
    engine, _team = sales
    merchant = flashsales.list_merchants(engine)[0]
    at = _form(filer)
    _fill_known_merchant(at, merchant, countries=["SE"], peak_rpm=5000.0)
    at.date_input(key="sale_start_day").set_value(date.today() - timedelta(days=3))
    at = _submit(at)
    assert any(e.value.startswith("Start: must be in the future") for e in at.error)
    assert flashsales.list_requests(engine) == []


def test_a_valid_request_is_stored_reviewed_and_shown_in_the_queue(sales, filer):
    engine, _team = sales
    merchant = flashsales.list_merchants(engine)[0]
    at = _form(filer)
    _fill_known_merchant(at, merchant, countries=["SE", "NO"], peak_rpm=50000.0)
    at = _submit(at)
    requests = flashsales.list_requests(engine)
    assert len(requests) == 1
    stored = requests[0]
    assert stored.merchant_id == merchant["merchant_id"] and stored.submitted_by == filer
    assert stored.status not in ("submitted", "under_review")  # the review ran and decided
    assert f"Request #{stored.id}" in texts(at)


def _increase_request(engine) -> int:
    merchant = next(m for m in flashsales.list_merchants(engine) if m["history_path"])
    starts = (date.today() + timedelta(days=10)).isoformat()
    raw = {"merchant_id": merchant["merchant_id"], "merchant_name": merchant["name"],
           "merchant_category": merchant["category"], "reporter": "bd.jonas", "key_account_manager": "kam.ella",
           "solution_engineer": "se.omar", "countries": ["SE"], "starts_at": f"{starts}T10:00:00+01:00",
           "ends_at": f"{starts}T12:00:00+01:00", "expected_multiplier": 3}
    result = flashsales.submit(engine, raw, actor="bd.jonas")
    if result.request.status != "increase_requested":
        pytest.skip(f"the demo review decided {result.request.status}, not an increase")
    return result.request.id


def test_only_the_rate_limit_team_is_offered_the_decision_and_it_approves(sales):
    engine, team = sales
    request_id = _increase_request(engine)
    viewer = open_app("views/flashsales.py", user="viewer")
    assert not [b for b in viewer.button if b.label == "Approve increase"]
    at = open_app("views/flashsales.py", user=team[0])
    no_exceptions(at)
    assert "Headroom per purchase-flow system" in texts(at)  # every term per system, with the bottleneck
    next(b for b in at.button if b.label == "Approve increase").click().run()
    no_exceptions(at)
    assert flashsales.get_request(engine, request_id).request.status == "approved"
    assert f"Request #{request_id} approved" in texts(at)


def test_the_service_refuses_an_approval_by_someone_outside_the_team(sales):
    engine, _team = sales
    from app import actions
    from app.auth import User

    request_id = _increase_request(engine)
    outcome = actions.approve_sale(User("viewer", "Viewer"), request_id, None, "")
    assert not outcome.ok and outcome.message.startswith("Not allowed")
    assert flashsales.get_request(engine, request_id).request.status == "increase_requested"


def test_a_viewer_is_offered_no_request_form(sales):
    at = _form("viewer")
    assert not at.text_input and not [b for b in at.button if b.label == "Submit request"]
    assert any("You are a viewer" in i.value for i in at.info)


def test_a_forged_request_by_a_viewer_is_refused_and_nothing_is_stored(sales):
    engine, _team = sales
    from app import actions
    from app.auth import User

    merchant = flashsales.list_merchants(engine)[0]
    day = (date.today() + timedelta(days=10)).isoformat()
    raw = {"merchant_id": merchant["merchant_id"], "merchant_name": merchant["name"],
           "merchant_category": merchant["category"], "reporter": "viewer", "key_account_manager": "kam.ella",
           "solution_engineer": "se.omar", "countries": ["SE"], "starts_at": f"{day}T10:00:00+01:00",
           "ends_at": f"{day}T12:00:00+01:00", "expected_peak_rpm": 5000}
    outcome = actions.submit_sale(User("viewer", "Viewer"), raw)
    assert not outcome.ok and outcome.message.startswith("Not allowed")
    assert flashsales.list_requests(engine) == []


def test_a_forged_cancel_by_a_viewer_is_refused(sales):
    engine, _team = sales
    from app import actions
    from app.auth import User

    request_id = _increase_request(engine)
    outcome = actions.cancel_sale(User("viewer", "Viewer"), request_id, "not my sale but I try")
    assert not outcome.ok and outcome.message.startswith("Not allowed")
    assert flashsales.get_request(engine, request_id).request.status == "increase_requested"


def test_the_limits_page_shows_the_purchase_flow_capacity_per_system(sales):
    at = open_app("views/flashsales.py", user="viewer")
    at.segmented_control(key="sale_view").set_value("Limits and unmanaged sales").run()
    no_exceptions(at)
    assert "Purchase-flow capacity (merchant req/s at the entry)" in texts(at)
    systems = next(d.value for d in at.dataframe if "call_ratio" in d.value.columns)
    assert {"capacity_rps", "limited_by", "call_ratio", "provisioned_rps"} <= set(systems.columns)
