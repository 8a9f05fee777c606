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

from storage import lazy_surface

# Each public name loads from its module on first use (PEP 562): importing the package, or a
# light submodule of it such as its CLI, does not import the whole context and its heavy
# dependencies. tests/clikit/test_startup.py checks every name here resolves.
_EXPORTS = {
    "PlatformCapacity": "flashsales.capacity",
    "purchase_flow_capacity": "flashsales.capacity",
    "list_categories": "flashsales.catalogue",
    "list_merchants": "flashsales.catalogue",
    "set_category": "flashsales.catalogue",
    "upsert_merchant": "flashsales.catalogue",
    "advance": "flashsales.decisions",
    "approve": "flashsales.decisions",
    "cancel": "flashsales.decisions",
    "reject": "flashsales.decisions",
    "CapacityExceeded": "flashsales.errors",
    "FieldProblem": "flashsales.errors",
    "FlashSalesError": "flashsales.errors",
    "HistoryUnavailable": "flashsales.errors",
    "InputError": "flashsales.errors",
    "InvalidTransition": "flashsales.errors",
    "NotFound": "flashsales.errors",
    "PermissionDenied": "flashsales.errors",
    "check_request": "flashsales.intake",
    "submit": "flashsales.intake",
    "submit_file": "flashsales.intake",
    "STATES": "flashsales.lifecycle",
    "TRANSITIONS": "flashsales.lifecycle",
    "EffectiveLimits": "flashsales.ratelimits",
    "effective_limits": "flashsales.ratelimits",
    "render_envoy": "flashsales.ratelimits",
    "render_json": "flashsales.ratelimits",
    "get_request": "flashsales.reads",
    "list_requests": "flashsales.reads",
    "KnownEvent": "flashsales.reports",
    "kapacity_events": "flashsales.reports",
    "known_events": "flashsales.reports",
    "unmanaged_report": "flashsales.reports",
    "review": "flashsales.review",
    "RATELIMIT_TEAM": "flashsales.roles",
    "grant_role": "flashsales.roles",
    "ratelimit_team": "flashsales.roles",
    "revoke_role": "flashsales.roles",
    "REQUEST_KEYS": "flashsales.schema",
    "SaleRequestIn": "flashsales.schema",
    "iso_country_codes": "flashsales.schema",
    "load_request_file": "flashsales.schema",
    "Settings": "flashsales.settings",
    "load_settings": "flashsales.settings",
    "RequestDetail": "flashsales.views",
    "RequestView": "flashsales.views",
    "ReviewView": "flashsales.views",
    "SubmitResult": "flashsales.views",
    "to_jsonable": "flashsales.views",
}

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


lazy_surface(__name__, _EXPORTS)
