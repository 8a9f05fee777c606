"""Small shared pieces of the pages: links between pages, badges, empty states, formatting."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import fmt
from app.charts import spec
from app.palette import (  # noqa: F401 - pages read the badge maps as ui.STATUS_LABELS etc.
    STATUS_BADGES,
    STATUS_LABELS,
    TEXT_COLORS,
    VERDICT_BADGES,
)

# Page files, relative to app/main.py (st.page_link and AppTest address pages by these).
OVERVIEW = "views/overview.py"
UNITS = "views/units.py"
SYSTEM = "views/system.py"
RULES = "views/rules.py"
REVIEWS = "views/reviews.py"
CAPACITY = "views/capacity.py"
PERFTESTS = "views/perftests.py"
FLASHSALES = "views/flashsales.py"
SEASON = "views/season.py"


def badge(text: str, color: str) -> str:
    return f":{color}-badge[{text}]"


def status_badge(status: str) -> str:
    return badge(STATUS_LABELS.get(status, status), STATUS_BADGES.get(status, "gray"))


def score_color(score: float | None) -> str:
    if score is None:
        return "gray"
    return "green" if score >= 95 else "blue" if score >= 85 else "orange" if score >= 70 else "red"


def score_badge(score: float | None) -> str:
    return badge(fmt.pct(score), score_color(score))


def link_system(system_id: str, name: str | None = None, *, score: float | None = None, key: str | None = None,
                detail: str | None = None) -> None:
    label = f"{system_id} · {name}" if name else system_id
    if score is not None:
        label = f"{label} — {fmt.pct(score)}"
    if detail:
        label = f"{label} · {detail}"
    st.page_link(SYSTEM, label=label, icon=":material/dns:", query_params={"id": system_id})


def link_unit(level: str, key: str, name: str, *, score: float | None = None) -> None:
    icons = {"domain": ":material/domain:", "group": ":material/workspaces:", "team": ":material/groups:"}
    label = f"{name} — {fmt.pct(score)}" if score is not None else name
    st.page_link(UNITS, label=label, icon=icons.get(level, ":material/apartment:"),
                 query_params={"level": level, "key": key})


def link_rule(rule_id: str, label: str | None = None) -> None:
    st.page_link(RULES, label=label or f"Rule {rule_id}", icon=":material/menu_book:",
                 query_params={"rule": rule_id})


def empty(message: str, command: str | None = None) -> None:
    """An empty state that says what to do."""
    text = message if command is None else f"{message}: run `{command}`"
    st.info(text, icon=":material/info:")


def no_run() -> None:
    st.info("No evaluation run yet: run `readiness demo` for the demo organisation, or import a catalog and "
            "inventory and run `readiness evaluate`.", icon=":material/info:")


def query_param(name: str) -> str | None:
    value = st.query_params.get(name)
    return value if value else None


def as_of(moment) -> str:
    return fmt.moment(moment)


def pct(value: float | None, digits: int = 1) -> str:
    return fmt.pct(value, digits)


def score_column(label: str = "Score") -> st.column_config.ProgressColumn:
    return st.column_config.ProgressColumn(label, min_value=0, max_value=100, format="%.1f%%")


def chart(figure, **kwargs):
    """Show an Altair chart through its Vega-Lite dict (no schema validation on every run)."""
    return st.vega_lite_chart(spec(figure), **kwargs)


def colour_column(frame: pd.DataFrame, column: str, badges: dict[str, str]):
    """A Styler painting ``column``'s text by value (status, state, verdict), for st.dataframe."""
    def paint(value) -> str:
        key = str(value).replace(" ", "_")
        color = TEXT_COLORS.get(badges.get(key, badges.get(str(value), "")), "")
        return f"color: {color}; font-weight: 600" if color else ""
    return frame.style.map(paint, subset=[column])
