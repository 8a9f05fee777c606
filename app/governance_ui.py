"""Forms and tables for team-managed checks and waivers, shared by the System and Reviews pages.

A form appears only when ``app.permissions`` says the user may do that write;
the write itself goes through ``app.actions`` (the governance service checks
the role again and validates the input).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from app import actions, data, fmt, permissions, ui, words
from app.auth import User

REVIEW_BADGES = {"pending": "orange", "approved": "green", "rejected": "red", "expired": "red", "superseded": "gray"}
WAIVER_BADGES = {"requested": "orange", "approved": "blue", "revoked": "gray", "expired": "red"}


def show_outcome(outcome: actions.Outcome) -> None:
    if outcome.ok:
        st.success(outcome.message, icon=":material/check_circle:")
    else:
        st.error(outcome.message + ("".join(f"\n- {p}" for p in outcome.problems) if outcome.problems else ""),
                 icon=":material/error:")


FLASH = "peak_flash"


def flash() -> None:
    """Show the result of a write made in the previous run (a successful form reruns the page)."""
    outcome = st.session_state.pop(FLASH, None)
    if outcome is not None:
        show_outcome(outcome)


def finish(outcome: actions.Outcome) -> None:
    """After a write: rerun on success (the lists change) and show the result; else show why not."""
    if outcome.ok:
        st.session_state[FLASH] = outcome
        st.rerun()
    show_outcome(outcome)


def reviews_table(rows: list[dict], *, show_system: bool = True) -> None:
    if not rows:
        st.caption("No reviews.")
        return
    frame = pd.DataFrame([{
        "id": r["id"], "system": r["system_id"], "rule": r["rule_id"], "state": r["state"],
        "submitted by": r["submitted_by"], "submitted": fmt.moment(r["submitted_at"]),
        "approvals": ", ".join(f"{a['by']} ({a['as']})" for a in r["approvals"]),
        "needs": words.capacities(r["needs"]), "expires": fmt.day(r["expires_at"]), "comment": r["comment"] or ""}
        for r in rows])
    if not show_system:
        frame = frame.drop(columns=["system"])
    st.dataframe(ui.colour_column(frame, "state", REVIEW_BADGES), hide_index=True, width="stretch")


def waivers_table(rows: list[dict], *, show_system: bool = True) -> None:
    if not rows:
        st.caption("No waivers.")
        return
    frame = pd.DataFrame([{
        "id": w["id"], "system": w["system_id"], "rule": w["rule_id"], "state": w["state"],
        "through": w["expires"], "requested by": w["requested_by"], "approved by": w["approved_by"] or "",
        "reason": w["reason"]} for w in rows])
    if not show_system:
        frame = frame.drop(columns=["system"])
    st.dataframe(ui.colour_column(frame, "state", WAIVER_BADGES), hide_index=True, width="stretch")


def answer_form(user: User, system_id: str, rule_id: str, *, key: str) -> None:
    """The owner answers a team-managed check's questions and attaches evidence."""
    meta = data.rule_meta(rule_id)
    if meta is None or not meta.questions:
        return
    with st.form(f"answer_{key}", clear_on_submit=False):
        st.markdown(f"**{meta.title}** — answer each question; an architect of the domain reviews it.")
        answers = {str(n): st.text_area(f"{n}. {question}", key=f"{key}_q{n}", height=80)
                   for n, question in enumerate(meta.questions, start=1)}
        evidence = st.text_area("Evidence (one link or note per line)", key=f"{key}_evidence", height=80,
                                placeholder="https://wiki.example.internal/peak/...")
        if st.form_submit_button("Submit for review", type="primary"):
            problems = [f"question {n}: empty — answer it" for n, text in answers.items() if not text.strip()]
            lines = [line.strip() for line in evidence.splitlines() if line.strip()]
            if not lines:
                problems.append("evidence: add at least one link or note the reviewer can check")
            if problems:
                show_outcome(actions.Outcome(False, "Not submitted: fix these fields; nothing was written.", problems))
                return
            outcome = actions.submit_review(user, system_id, rule_id, {n: t.strip() for n, t in answers.items()}, lines)
            finish(outcome)


def state_badge(state: str) -> str:
    return ui.badge(state, REVIEW_BADGES.get(state, "gray"))


def review_details(review: dict) -> None:
    """A review's answers and evidence."""
    for question, answer in review["answers"].items():
        st.markdown(f"- *{question}*  \n  {answer}")
    links = [e.get("url") or e.get("text") for e in review["evidence"]]
    if links:
        st.caption("Evidence: " + " · ".join(str(x) for x in links))


def decide_form(user: User, review: dict, *, key: str) -> None:
    """Approve or reject one review (the caller checked ``permissions.may_decide_review``)."""
    with st.form(f"decide_{key}"):
        comment = st.text_input("Comment (required to reject)", key=f"{key}_comment")
        approve, reject = st.columns(2)
        approved = approve.form_submit_button("Approve", type="primary")
        rejected = reject.form_submit_button("Reject")
        if approved or rejected:
            outcome = (actions.approve_review(user, review["id"], comment) if approved
                       else actions.reject_review(user, review["id"], comment))
            finish(outcome)


def decide_review_form(user: User, review: dict, *, key: str) -> None:
    meta = data.rule_meta(review["rule_id"])
    with st.container(border=True):
        waits = words.capacities(permissions.open_capacities(review))
        st.markdown(f"**Review {review['id']}** · {review['system_id']} · {meta.title if meta else review['rule_id']}  \n"
                    f"submitted by `{review['submitted_by']}` on {fmt.day(review['submitted_at'])} · waits for "
                    f"{waits} approval")
        review_details(review)
        decide_form(user, review, key=key)


def waiver_request_form(user: User, system_id: str, candidates: list[tuple[str, str]], *, key: str) -> None:
    """Request a waiver for one of ``candidates`` ((rule id, label)): waivable rules this system fails."""
    if not candidates:
        return
    labels = dict(candidates)
    with st.form(f"waiver_{key}"):
        rule_id = st.selectbox("Rule", list(labels), format_func=lambda r: labels[r], key=f"{key}_rule")
        reason = st.text_area("Reason (why it cannot be met in time, and how the risk is covered)",
                              key=f"{key}_reason", height=80)
        expires = st.date_input("Valid through", value=date.today() + timedelta(days=60), key=f"{key}_expires",
                                min_value=date.today())
        if st.form_submit_button("Request waiver", type="primary"):
            outcome = actions.request_waiver(user, system_id, rule_id, reason, expires)
            finish(outcome)


def decide_waiver_form(user: User, waiver: dict, *, domain: str, key: str) -> None:
    may_approve = permissions.may_approve_waiver(user, waiver, domain=domain)
    may_revoke = permissions.may_revoke_waiver(user, waiver, domain=domain)
    if not (may_approve or may_revoke):
        return
    with st.container(border=True):
        st.markdown(f"**Waiver {waiver['id']}** · {waiver['system_id']} · {waiver['rule_id']} · "
                    f"{ui.badge(waiver['state'], WAIVER_BADGES.get(waiver['state'], 'gray'))} through "
                    f"{waiver['expires']}  \nrequested by `{waiver['requested_by']}`: {waiver['reason']}")
        with st.form(f"waiver_decide_{key}"):
            text = st.text_input("Comment (approval) or reason (revocation, at least 10 characters)",
                                 key=f"{key}_text")
            cols = st.columns(2)
            approved = cols[0].form_submit_button("Approve", type="primary") if may_approve else False
            revoked = cols[1].form_submit_button("Withdraw" if waiver["state"] == "requested" and
                                                 waiver["requested_by"] == user.username else "Revoke") \
                if may_revoke else False
            if approved or revoked:
                outcome = (actions.approve_waiver(user, waiver["id"], text) if approved
                           else actions.revoke_waiver(user, waiver["id"], text))
                finish(outcome)
