"""Waivers in force change results: a fail, no-data or expired result becomes ``waived``.

``overlays_for`` is the ``peak_readiness.overlays`` hook the core applies after every
evaluation; it first records the expiries that fell due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine

from governance.expiry import expire_due
from governance.waivers import active_waivers
from readiness import WAIVABLE_STATUSES, Outcome, RuleMeta, Status, SystemView


@dataclass
class WaiverOverlay:
    """Turns a fail, no-data or expired result into ``waived`` where a waiver is in force."""

    active: dict[tuple[str, str], dict]

    def apply(self, system: SystemView, meta: RuleMeta, outcome: Outcome) -> tuple[Outcome, str] | None:
        waiver = self.active.get((system.system_id, meta.id))
        if waiver is None or not meta.waivable or outcome.status not in WAIVABLE_STATUSES:
            return None
        message = (f"waived through {waiver['expires']} (waiver {waiver['id']}, approved by "
                   f"{waiver['approved_by']}): {waiver['reason']} [underlying: {outcome.status.value}: "
                   f"{outcome.message}]")
        evidence = ({"waiver_id": waiver["id"], "approved_by": waiver["approved_by"],
                     "expires": waiver["expires"], "reason": waiver["reason"]},) + tuple(outcome.evidence)
        return Outcome(Status.WAIVED, 1.0, message, evidence), "waiver"


def overlays_for(engine: Engine, now: datetime) -> list:
    """Overlays applied after evaluation: the waivers in force at ``now``."""
    expire_due(engine, now)
    return [WaiverOverlay(active_waivers(engine, now))]
