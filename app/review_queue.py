"""The review queue: every review, filtered, sorted, paged, with bulk decisions for the readiness team.

Pure pieces (``queue_rows``, ``sort_rows``, ``page_of``) are separate from the
widgets so the order is easy to read and test. A bulk decision is one call to
``app.actions`` per review (so governance checks the role and audits each one).
"""

from __future__ import annotations

import math

import streamlit as st

from app import actions, data, fmt, governance_ui, permissions, words
from app.auth import User

PAGE_SIZE = 20
TIER_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}
SORTS = ("criticality", "due date", "age")
STATES = ("pending", "approved", "rejected", "expired", "superseded")


def queue_rows(user: User | None, reviews: list[dict], catalog, rules) -> list[dict]:
    """Reviews with what the queue sorts and filters on: tier, domain, due date, and whether it is
    the user's (theirs to decide, submitted by them, or about a system they own)."""
    tier = dict(zip(catalog["system_id"], catalog["tier"], strict=True))
    domain = dict(zip(catalog["system_id"], catalog["domain"], strict=True))
    team = dict(zip(catalog["system_id"], catalog["team"], strict=True))
    due = {rule: None if fmt.missing(day) else str(day) for rule, day in zip(rules["rule_id"], rules["due"],
                                                                               strict=True)}
    titles = dict(zip(rules["rule_id"], rules["title"], strict=True))
    rows = []
    for review in reviews:
        system_id = review["system_id"]
        decidable = permissions.may_decide_review(user, review, domain=domain.get(system_id))
        mine = decidable or (user is not None and (review["submitted_by"] == user.username
                                                   or user.owns(team.get(system_id))))
        rows.append({**review, "tier": tier.get(system_id), "domain": domain.get(system_id),
                     "due": due.get(review["rule_id"]), "title": titles.get(review["rule_id"], review["rule_id"]),
                     "decidable": decidable, "mine": mine})
    return rows


def sort_rows(rows: list[dict], by: str) -> list[dict]:
    """The user's own items first, then by criticality (critical first), due date (soonest first,
    none last) or age (oldest submission first); review id breaks ties."""
    def key(row: dict):
        if by == "criticality":
            second = (TIER_RANK.get(row["tier"], 9), row["due"] or "9999")
        elif by == "due date":
            second = (row["due"] or "9999", TIER_RANK.get(row["tier"], 9))
        else:
            second = (row["submitted_at"] or "9999",)
        return (not row["mine"], *second, row["id"])
    return sorted(rows, key=key)


def page_of(rows: list, page: int, size: int = PAGE_SIZE) -> tuple[list, str]:
    """One page of ``rows`` (1-based) and its label "21–40 of 52"."""
    if not rows:
        return [], "0 of 0"
    first = (page - 1) * size
    shown = rows[first:first + size]
    return shown, f"{first + 1}–{first + len(shown)} of {len(rows)}"


def pager(total: int, key: str) -> int:
    """Page controls (previous, page number, next); the page number chosen, clamped to the pages there are."""
    pages = max(1, math.ceil(total / PAGE_SIZE))
    current = min(max(1, int(st.session_state.get(key, 1))), pages)
    st.session_state[key] = current
    if pages == 1:
        return 1
    cols = st.columns([1, 2, 1, 6], vertical_alignment="bottom")
    cols[0].button("Previous", key=f"{key}_prev", disabled=current <= 1,
                   on_click=lambda: st.session_state.update({key: current - 1}))
    cols[1].number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key=key)
    cols[2].button("Next", key=f"{key}_next", disabled=current >= pages,
                   on_click=lambda: st.session_state.update({key: current + 1}))
    return int(st.session_state[key])


def due_dates(url: str) -> dict[str, str]:
    """The current season's due date of each scheduled rule ("2027-10-17"); none without a season,
    when rules are simply due. (The rule catalog's ``due`` is the offset in words.)"""
    season = data.season(url)
    if season is None:
        return {}
    milestones = data.season_detail(url, season["key"])["milestones"]
    return {rule_id: fmt.day(day) for rule_id, day in zip(milestones["rule_id"], milestones["due"], strict=True)}


def show(user: User | None, url: str) -> None:
    """Filters, sort, the bulk bar (readiness team and admins), one page of review cards."""
    catalog, rules = data.systems(url), data.rule_catalog()
    rows = queue_rows(user, data.reviews(url), catalog, rules.assign(due=rules["rule_id"].map(due_dates(url))))
    cols = st.columns(4)
    states = cols[0].multiselect("State", STATES, default=["pending"], key="queue_states")
    domains = cols[1].multiselect("Domain", sorted({r["domain"] for r in rows if r["domain"]}), key="queue_domains")
    picked_rules = cols[2].multiselect("Rule", sorted({r["rule_id"] for r in rows}), key="queue_rules")
    by = cols[3].selectbox("Sort by", SORTS, key="queue_sort")
    rows = [r for r in rows if (not states or r["state"] in states) and (not domains or r["domain"] in domains)
            and (not picked_rules or r["rule_id"] in picked_rules)]
    rows = sort_rows(rows, by)
    if not rows:
        st.caption("No review matches these filters.")
        return
    page = pager(len(rows), "queue_page")
    shown, label = page_of(rows, page)
    st.caption(f"Reviews {label} · yours first (to decide, submitted by you, or about your systems), then by {by}.")
    bulk = user is not None and (user.readiness_team or user.admin)
    if bulk:
        _bulk_bar(user, [r for r in shown if r["decidable"]])
    for row in shown:
        _card(user, row, selectable=bulk and row["decidable"])


def _pick_key(review_id: int) -> str:
    return f"pick_{review_id}"


def _bulk_bar(user: User, decidable: list[dict]) -> None:
    picked = [r["id"] for r in decidable if st.session_state.get(_pick_key(r["id"]))]
    with st.container(border=True):
        st.markdown(f"**Bulk decision** · tick reviews below; each is decided and audited on its own. "
                    f"{fmt.count(len(picked), 'review')} selected of {len(decidable)} you may decide on this page.")
        comment = st.text_input("Comment (required to reject)", key="bulk_comment")
        left, right, every, _ = st.columns([1, 1, 1.4, 2.6])
        approve = left.button("Approve selected", type="primary", disabled=not picked, key="bulk_approve")
        reject = right.button("Reject selected", disabled=not picked, key="bulk_reject")
        every.button("Select all on this page", key="bulk_all", disabled=not decidable,
                     on_click=lambda: st.session_state.update({_pick_key(r["id"]): True for r in decidable}))
    if approve or reject:
        outcome = actions.decide_reviews(user, picked, approve=bool(approve), comment=comment)
        for review_id in picked:
            st.session_state.pop(_pick_key(review_id), None)
        governance_ui.finish(outcome)


def _card(user: User | None, row: dict, *, selectable: bool) -> None:
    """One review in two lines: what it is (the tick box's label when it can be bulk-decided), and
    its answers with the decision form folded away."""
    head = (f"**Review {row['id']}** · {row['system_id']} ({row['tier'] or 'unknown tier'}, {row['domain']}) · "
            f"{row['title']} · {governance_ui.state_badge(row['state'])} · by `{row['submitted_by']}` "
            f"on {fmt.day(row['submitted_at'])}" + (f" · due {fmt.day(row['due'])}" if row["due"] else ""))
    if row["state"] == "pending":
        head += f" · waits for {words.capacities(permissions.open_capacities(row))}"
    if selectable:
        st.checkbox(head, key=_pick_key(row["id"]))
    else:
        st.markdown(head)
    with st.expander("Answers" + (" and decision" if row["decidable"] else "")):
        governance_ui.review_details(row)
        if row["decidable"]:
            governance_ui.decide_form(user, row, key=f"rev_{row['id']}")

