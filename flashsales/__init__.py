"""Managed flash sales: intake, review against history and headroom, temporary rate limits.

Other packages and the app import from here only:
- intake: ``SaleRequestIn`` (the request's fields), ``REQUEST_KEYS``, ``check_request``
  (validate without storing), ``submit``, ``submit_file``, ``load_request_file``;
- decisions: ``review``, ``approve``, ``reject``, ``cancel``, ``advance``; states in
  ``STATES`` / ``TRANSITIONS``;
- reads: ``list_requests``, ``get_request`` (with reviews, audit, notifications),
  ``to_jsonable``;
- rate limits: ``set_category``, ``list_categories``, ``upsert_merchant``, ``list_merchants``,
  ``effective_limits``, ``render_envoy``, ``render_json``;
- roles: ``ratelimit_team``, ``grant_role``, ``revoke_role``, the role's name ``RATELIMIT_TEAM``;
- reports: ``unmanaged_report``, ``known_events`` (approved sales for Kapacity),
  ``kapacity_events`` (the same in Kapacity's events format), ``purchase_flow_capacity``;
- configuration: ``Settings``, ``load_settings``; errors: ``FlashSalesError`` and subclasses
  (``InputError.fields`` maps each field to its messages, for a form).
"""

from flashsales.capacity import PlatformCapacity, purchase_flow_capacity
from flashsales.catalogue import list_categories, list_merchants, set_category, upsert_merchant
from flashsales.decisions import advance, approve, cancel, reject
from flashsales.errors import (
    CapacityExceeded,
    FieldProblem,
    FlashSalesError,
    HistoryUnavailable,
    InputError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
)
from flashsales.intake import check_request, submit, submit_file
from flashsales.lifecycle import STATES, TRANSITIONS
from flashsales.ratelimits import EffectiveLimits, effective_limits, render_envoy, render_json
from flashsales.reads import get_request, list_requests
from flashsales.reports import KnownEvent, kapacity_events, known_events, unmanaged_report
from flashsales.review import review
from flashsales.roles import RATELIMIT_TEAM, grant_role, ratelimit_team, revoke_role
from flashsales.schema import REQUEST_KEYS, SaleRequestIn, iso_country_codes, load_request_file
from flashsales.settings import Settings, load_settings
from flashsales.views import RequestDetail, RequestView, ReviewView, SubmitResult, to_jsonable

__all__ = [
    "RATELIMIT_TEAM", "REQUEST_KEYS", "STATES", "TRANSITIONS", "CapacityExceeded", "EffectiveLimits", "FieldProblem",
    "FlashSalesError", "HistoryUnavailable", "InputError", "InvalidTransition", "KnownEvent", "NotFound",
    "PermissionDenied", "PlatformCapacity", "RequestDetail", "RequestView", "ReviewView", "SaleRequestIn",
    "Settings", "SubmitResult", "advance", "approve", "cancel", "check_request", "effective_limits",
    "get_request", "grant_role", "iso_country_codes", "kapacity_events", "known_events", "list_categories",
    "list_merchants", "list_requests", "load_request_file", "load_settings", "purchase_flow_capacity",
    "ratelimit_team", "reject", "render_envoy", "render_json", "review", "revoke_role", "set_category",
    "submit", "submit_file", "to_jsonable", "unmanaged_report", "upsert_merchant",
]
