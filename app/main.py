"""The readiness dashboard: `streamlit run app/main.py` (``make app``).

Logs the user in, then hands over to the page chosen in the navigation.
Pages live in app/views/ and read data through app/data.py only.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts app/ on the path, not the repo root
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from app import auth, data, ui  # noqa: E402

st.set_page_config(page_title="Peak readiness", page_icon=":material/monitoring:", layout="wide")
st.set_option("client.toolbarMode", "viewer")  # no "Deploy" button: this is a product, not a notebook

auth.remember_deep_link()
user = auth.require_login()

pages = {
    "Readiness": [
        st.Page(ui.OVERVIEW, title="Overview", icon=":material/dashboard:", default=True),
        st.Page(ui.UNITS, title="Domains, groups, teams", icon=":material/account_tree:"),
        st.Page(ui.SYSTEM, title="System", icon=":material/dns:"),
        st.Page(ui.RULES, title="Rules", icon=":material/menu_book:"),
        st.Page(ui.REVIEWS, title="Reviews and waivers", icon=":material/fact_check:"),
        st.Page(ui.SEASON, title="Season", icon=":material/event:"),
    ],
    "Capacity and load": [
        st.Page(ui.CAPACITY, title="Capacity", icon=":material/show_chart:"),
        st.Page(ui.PERFTESTS, title="Performance tests", icon=":material/speed:"),
    ],
    "Merchants": [
        st.Page(ui.FLASHSALES, title="Flash sales", icon=":material/bolt:"),
    ],
}
# Registered even before login (hidden), so a deep link like /system?id=SYS-0042 survives the login.
page = st.navigation(pages, position="sidebar" if user else "hidden")
if user is None:
    st.stop()
auth.follow_deep_link(page, [p for section in pages.values() for p in section])

with st.sidebar:
    st.markdown(f"**{user.name}**  \n`{user.username}`")
    st.caption(" · ".join(user.labels))
    auth.logout_button()
    if not st.session_state.get("authentication_status") and auth.current() is not None and \
            st.session_state.get("_authenticator_logout") is not None:
        st.session_state.pop(auth.SESSION_USER, None)
        st.session_state.pop("_authenticator_logout", None)
        # Stop, not rerun: the authenticator deletes the re-login cookie from a browser
        # component that a rerun would discard before it runs; the component's answer
        # reruns the script, which then shows the login.
        st.stop()
    run_id = data.latest_run(data.db_url())
    st.caption(f"Database: `{data.db_url().split('@')[-1]}`" + (f" · run {run_id}" if run_id else ""))

page.run()
