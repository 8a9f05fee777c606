"""Flash sales: the request form, the queue, each sale's review figures and decision, and the
rate-limit overrides on a timeline. Every write goes through flashsales' service functions."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pandas as pd
import streamlit as st

import flashsales
from app import actions, auth, charts, data, fmt, governance_ui, permissions, ui, words

url = data.db_url()
user = auth.current()
st.title("Flash sales")
governance_ui.flash()

requests = data.sale_requests(url)
team = data.ratelimit_team(url)
now = datetime.now(UTC).replace(tzinfo=None)
STATUS_COLORS = {"submitted": "gray", "under_review": "gray", "increase_requested": "orange", "approved": "blue",
                 "no_change_needed": "green", "scheduled": "blue", "live": "violet", "completed": "gray",
                 "rejected": "red", "cancelled": "gray"}

overrides = data.sale_overrides(url, now.replace(second=0, microsecond=0))
cols = st.columns(4)
cols[0].metric("Requests", len(requests))
cols[1].metric("Waiting for the rate-limit team", int((requests["status"] == "increase_requested").sum()))
cols[2].metric("Live or scheduled", int(requests["status"].isin(["live", "scheduled"]).sum()))
cols[3].metric("Overrides in force", len(overrides), help="Temporary merchant limits in the rate-limit export now")

VIEWS = ["Queue", "New request", "Overrides timeline", "Limits and unmanaged sales"]
wanted_view = ui.query_param("view")
view = st.segmented_control("View", VIEWS, default=wanted_view if wanted_view in VIEWS else "Queue",
                            key="sale_view", label_visibility="collapsed") or "Queue"

# ------------------------------------------------------------------ queue
if view == "Queue":
    if requests.empty:
        ui.empty("No flash-sale request yet: file one under New request, or", "flashsales submit --file F.json")
    else:
        table = requests.assign(window=[f"{fmt.moment(a)} → {fmt.moment(b)}" for a, b in
                                        zip(requests["starts_at"], requests["ends_at"], strict=True)],
                                **{c: requests[c].map(fmt.number) for c in  # a dash, never "None"
                                   ("expected_peak_rpm", "proposed_limit_rpm", "granted_limit_rpm")},
                                expected_multiplier=requests["expected_multiplier"].map(
                                    lambda v: fmt.MISSING if fmt.missing(v) else f"{fmt.number(v, 1)}×"),
                                status=requests["status"].str.replace("_", " "))
        st.dataframe(ui.colour_column(table.sort_values("id", ascending=False), "status", STATUS_COLORS),
                     hide_index=True, width="stretch",
                     column_order=["id", "status", "merchant_name", "category", "window", "expected_peak_rpm",
                                   "expected_multiplier", "proposed_limit_rpm", "granted_limit_rpm", "reporter"],
                     column_config={"merchant_name": "merchant", "expected_peak_rpm": "expected peak (rpm)",
                                    "expected_multiplier": "multiplier", "proposed_limit_rpm": "proposed limit (rpm)",
                                    "granted_limit_rpm": "granted limit (rpm)"})
        ids = requests.sort_values("id", ascending=False)["id"].tolist()
        names = dict(zip(requests["id"], requests["merchant_name"], strict=True))
        statuses = dict(zip(requests["id"], requests["status"], strict=True))
        chosen = st.selectbox("Request", ids, key="sale_pick",
                              format_func=lambda i: f"#{i} · {names[i]} · {statuses[i].replace('_', ' ')}")
        detail = data.sale_request(url, int(chosen))
        request = detail["request"]
        st.markdown(f"### #{request['id']} {request['merchant_name']} "
                    f"{ui.badge(request['status'].replace('_', ' '), STATUS_COLORS.get(request['status'], 'gray'))}")
        st.caption(f"{request['category']} · {', '.join(request['countries'])} · "
                   f"{fmt.moment(request['starts_at'])} to {fmt.moment(request['ends_at'])} "
                   f"(local offset {request['utc_offset']}) · reported by {request['reporter']}, KAM "
                   f"{request['key_account_manager']}, SE {request['solution_engineer']}")
        review = detail["reviews"][-1] if detail["reviews"] else None
        if review is None:
            ui.empty("Not reviewed yet")
        else:
            figures = st.columns(5)
            figures[0].metric("Projected peak", fmt.rate(review["projected_peak_rpm"], "rpm"))
            figures[1].metric("Category limit", fmt.rate(review["category_limit_rpm"], "rpm"))
            figures[2].metric("Proposed limit", fmt.rate(review["proposed_limit_rpm"], "rpm"))
            figures[3].metric("Extra load", fmt.rate(review["extra_rps"]))
            figures[4].metric("Headroom", fmt.rate(review["headroom_rps"]))
            st.markdown(f"**Decision: {review['decision'].replace('_', ' ')}**")
            st.markdown("\n".join(f"- {words.plain(line)}" for line in review["reasoning"]))
            rooms = review["figures"].get("headroom_systems")  # reviews before the headroom formula have none
            if rooms:
                st.markdown(f"**Headroom per purchase-flow system** (bottleneck "
                            f"{review['figures'].get('headroom_bottleneck')}: room = (capacity - expected p99 - "
                            "holds) / call ratio, in merchant req/s)")
                rps = {c: st.column_config.NumberColumn(label, format="localized") for c, label in (
                    ("capacity_rps", "capacity (req/s)"), ("expected_p99_rps", "expected p99 (req/s)"),
                    ("holds_rps", "held by other sales (req/s)"), ("room_rps", "room (merchant req/s)"))}
                st.dataframe(pd.DataFrame(rooms).sort_values("room_rps").round(1), hide_index=True, width="stretch",
                             column_config={"system_id": "system", "call_ratio": st.column_config.NumberColumn(
                                 "call ratio", format="%.2f"), **rps})
        if permissions.may_decide_sale(user, request, ratelimit_team=team):
            with st.form(f"sale_decide_{request['id']}"):
                st.markdown("**Rate-limit team decision**")
                limit = st.number_input("Limit to grant (rpm)", min_value=1, step=10,
                                        value=int(request["proposed_limit_rpm"] or 0) or None, key="sale_limit")
                comment = st.text_input("Comment, or the reason for rejecting", key="sale_comment")
                approve, reject = st.columns(2)
                if approve.form_submit_button("Approve increase", type="primary"):
                    governance_ui.finish(actions.approve_sale(user, request["id"], limit, comment))
                if reject.form_submit_button("Reject increase"):
                    governance_ui.finish(actions.reject_sale(user, request["id"], comment))
        if permissions.may_cancel_sale(user, request, ratelimit_team=team):
            with st.expander("Cancel this sale", icon=":material/cancel:"):
                with st.form(f"sale_cancel_{request['id']}"):
                    reason = st.text_input("Reason", key="sale_cancel_reason")
                    if st.form_submit_button("Cancel the sale"):
                        governance_ui.finish(actions.cancel_sale(user, request["id"], reason))
        if detail["override"]:
            o = detail["override"]
            st.info(f"Override: merchant {o['merchant_id']} at {fmt.rate(o['limit_rpm'], 'rpm')} from "
                    f"{fmt.moment(o['starts_at'])} to {fmt.moment(o['expires_at'])}, approved by {o['approved_by']}"
                    + (f"; revoked {fmt.moment(o['revoked_at'])}" if o["revoked_at"] else ""))
        left, right = st.columns(2)
        with left:
            st.markdown("**History**")
            history = pd.DataFrame(detail["audit"], columns=["at", "actor", "action", "from_status", "to_status"])
            history = history.assign(at=history["at"].map(fmt.moment), **{
                c: history[c].map(lambda v: fmt.MISSING if fmt.missing(v) or v == "" else str(v).replace("_", " "))
                for c in ("action", "from_status", "to_status")})
            st.dataframe(history, hide_index=True, width="stretch",
                         column_config={"from_status": "from", "to_status": "to"})
        with right:
            st.markdown("**Notifications**")
            sent = pd.DataFrame(detail["notifications"], columns=["event", "destination", "status", "attempts",
                                                                  "last_error"])
            sent = sent.assign(**{c: sent[c].map(lambda v: fmt.MISSING if fmt.missing(v) or v == "" else
                                                 str(v).replace("_", " ")) for c in ("event", "destination", "status",
                                                                                     "last_error")})
            st.dataframe(sent, hide_index=True, width="stretch", column_config={"last_error": "last error"})

# ------------------------------------------------------------------ request form
FIELDS = st.session_state.get("sale_errors", {})


def field_errors(name: str) -> None:
    messages = [m for key, ms in FIELDS.items() if key == name or key.startswith(f"{name}.") for m in ms]
    if messages:
        st.error("  \n".join(messages), icon=":material/error:")


if view == "New request":
    if not permissions.may_submit_sale(user):
        st.info("You are a viewer: you can read the queue and the limits, but not file a request. Ask a system "
                "owner or the readiness team to file it for you.", icon=":material/visibility:")
    else:
        categories = data.sale_categories(url)
        merchants = {m["merchant_id"]: m for m in data.sale_merchants(url)}
        known = st.selectbox("Known merchant (fills in its id, name and category)", [""] + sorted(merchants),
                             key="sale_known", format_func=lambda m: m and f"{m} · {merchants[m]['name']}")
        if known and st.session_state.get("sale_known_applied") != known:
            st.session_state.update(sale_merchant_id=known, sale_merchant_name=merchants[known]["name"],
                                    sale_category=merchants[known]["category"], sale_known_applied=known)
        if FIELDS:
            st.error("Not stored: fix the fields marked below.", icon=":material/error:")
        with st.form("sale_form"):
            a, b, c = st.columns(3)
            with a:
                merchant_id = st.text_input("Merchant id", key="sale_merchant_id")
                field_errors("merchant_id")
            with b:
                merchant_name = st.text_input("Merchant name", key="sale_merchant_name")
                field_errors("merchant_name")
            with c:
                category = st.selectbox("Merchant category", [c["category"] for c in categories], key="sale_category",
                                        format_func=lambda k: f"{k} ({next(x['rate_limit_rpm'] for x in categories if x['category'] == k):,} rpm)")
                field_errors("merchant_category")
            a, b, c = st.columns(3)
            with a:
                reporter = st.text_input("Reporter (business developer)", value=user.username if user else "",
                                         key="sale_reporter")
                field_errors("reporter")
            with b:
                kam = st.text_input("Key account manager", key="sale_kam")
                field_errors("key_account_manager")
            with c:
                engineer = st.text_input("Solution engineer", key="sale_se")
                field_errors("solution_engineer")
            countries = st.multiselect("Countries", sorted(flashsales.iso_country_codes()), key="sale_countries")
            field_errors("countries")
            a, b, c, d, e = st.columns([2, 1, 2, 1, 1])
            start_day = a.date_input("Starts on", value=date.today() + timedelta(days=14), key="sale_start_day")
            start_time = b.time_input("at", value=time(10, 0), key="sale_start_time")
            end_day = c.date_input("Ends on", value=date.today() + timedelta(days=14), key="sale_end_day")
            end_time = d.time_input("at ", value=time(12, 0), key="sale_end_time")
            offsets = [f"{'+' if h >= 0 else '-'}{abs(h):02d}:00" for h in range(-12, 15)]
            offset = e.selectbox("UTC offset", offsets, index=offsets.index("+01:00"), key="sale_offset")
            field_errors("starts_at")
            field_errors("ends_at")
            a, b = st.columns(2)
            with a:
                peak = st.number_input("Expected peak (requests per minute)", min_value=0.0, value=None,
                                       step=100.0, key="sale_peak")
                field_errors("expected_peak_rpm")
            with b:
                multiplier = st.number_input("Expected multiplier over normal traffic", min_value=0.0, value=None,
                                             step=0.5, key="sale_multiplier")
                field_errors("expected_multiplier")
            notes = st.text_area("Notes", key="sale_notes", height=80)
            field_errors("notes")
            if st.form_submit_button("Submit request", type="primary"):
                raw = {"merchant_id": merchant_id, "merchant_name": merchant_name, "merchant_category": category,
                       "reporter": reporter, "key_account_manager": kam, "solution_engineer": engineer,
                       "countries": countries,
                       "starts_at": f"{datetime.combine(start_day, start_time).isoformat(timespec='minutes')}{offset}",
                       "ends_at": f"{datetime.combine(end_day, end_time).isoformat(timespec='minutes')}{offset}",
                       "expected_peak_rpm": peak or None, "expected_multiplier": multiplier or None, "notes": notes}
                outcome = actions.submit_sale(user, raw)
                if outcome.ok:
                    st.session_state.pop("sale_errors", None)
                    governance_ui.finish(outcome)
                else:
                    st.session_state["sale_errors"] = outcome.fields or {"request": [outcome.message]}
                    st.rerun()

# ------------------------------------------------------------------ timeline
if view == "Overrides timeline":
    going = requests[requests["granted_limit_rpm"].notna() | requests["proposed_limit_rpm"].notna()]
    if going.empty:
        ui.empty("No rate-limit override granted or proposed yet")
    else:
        frame = going.assign(
            sale=[f"#{i} {n}" for i, n in zip(going["id"], going["merchant_name"], strict=True)],
            limit_rpm=pd.to_numeric(going["granted_limit_rpm"], errors="coerce").fillna(
                pd.to_numeric(going["proposed_limit_rpm"], errors="coerce")))
        frame = frame[["sale", "status", "category", "starts_at", "ends_at", "limit_rpm"]].assign(
            limit=[fmt.rate(v, "rpm") for v in frame["limit_rpm"]])
        ui.chart(charts.timeline(frame, start="starts_at", end="ends_at", label="sale", color="status", now=now,
                                 text="limit"), width="stretch")
        st.caption("Granted overrides (and proposals waiting for the rate-limit team) over each sale's window; "
                   "the dashed line is now. Overrides end on their own at the sale's end.")

# ------------------------------------------------------------------ limits and unmanaged
if view == "Limits and unmanaged sales":
    platform = data.sale_platform(url)
    st.metric("Purchase-flow capacity (merchant req/s at the entry)", fmt.rate(platform["capacity_rps"]),
              help=f"bottleneck: {platform['bottleneck'] or 'none found'}")
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Category rate limits**")
        st.dataframe(pd.DataFrame(data.sale_categories(url)), hide_index=True, width="stretch",
                     column_order=["category", "name", "rate_limit_rpm", "updated_at", "updated_by"],
                     column_config={"rate_limit_rpm": st.column_config.NumberColumn("limit (rpm)", format="localized"),
                                    "updated_at": st.column_config.DatetimeColumn("updated", format="YYYY-MM-DD HH:mm"),
                                    "updated_by": "updated by"})
        st.markdown("**Purchase-flow systems (capacity absorbing a surge, call ratio)**")
        systems = pd.DataFrame(platform["systems"])
        if not systems.empty:
            rps = {column: st.column_config.NumberColumn(label, format="localized") for column, label in (
                ("flas_rps", "FLAS (req/s)"), ("provisioned_rps", "provisioned (req/s)"),
                ("capacity_rps", "capacity (req/s)"), ("baseline_rps", "baseline (req/s)"))}
            st.dataframe(systems.sort_values("capacity_rps").round(1).assign(
                limited_by=systems["limited_by"].str.replace("_", " ")), hide_index=True, width="stretch",
                column_order=["system_id", "team", "capacity_rps", "flas_rps", "provisioned_rps", "baseline_rps",
                              "limited_by", "source"],
                column_config={"system_id": "system", "limited_by": "limited by", **rps})
    with right:
        st.markdown("**Unmanaged flash sales: categories that could exceed the headroom**")
        report = data.sale_unmanaged(url, now.replace(second=0, microsecond=0))
        risks = pd.DataFrame(report["categories"])
        if risks.empty:
            st.caption("No categories.")
        else:
            st.dataframe(risks[["category", "rate_limit_rpm", "spike_ratio", "admitted_rps", "headroom_left_rps",
                                "could_exceed"]].round(2), hide_index=True, width="stretch",
                         column_config={
                             "rate_limit_rpm": st.column_config.NumberColumn("limit (rpm)", format="localized"),
                             "spike_ratio": st.column_config.NumberColumn("spike ratio", format="%.2f×"),
                             "admitted_rps": st.column_config.NumberColumn("admitted (req/s)", format="localized"),
                             "headroom_left_rps": st.column_config.NumberColumn("headroom left (req/s)",
                                                                                format="localized"),
                             "could_exceed": st.column_config.CheckboxColumn("could exceed")})
        for problem in report["problems"]:
            st.caption(words.plain(problem))
