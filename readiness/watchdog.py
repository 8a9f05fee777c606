"""A time limit on each rule call that costs two counter stores and a flag check per call.

The caller counts its calls (``started`` before, ``finished`` after). While
rules run, a SIGALRM interval timer ticks ten times per limit; a tick that
finds the same call still running for longer than the limit raises
:class:`RuleTimeout` inside the rule's code, and the caller turns it into that
rule's ``error`` result. Nothing happens per call beyond the two stores, so the
600,000 calls of a 10,000-system run pay almost nothing for it.

What it cannot do, honestly:

- Signals reach only the main thread (where ``readiness evaluate`` and
  ``readiness serve`` evaluate). Elsewhere (a Streamlit script thread loading
  the rule pack) the limit does not apply: no signal handler is touched and
  exceptions are still contained, but a hung rule hangs that thread.
- Python runs signal handlers between bytecodes: a rule stuck inside one C call
  that never returns (a C extension's loop, a catastrophic regular expression)
  is interrupted only when that call returns.
- A rule that catches ``BaseException`` and carries on is interrupted again at
  every tick, and gets an ``error`` result if it then returns, but one that
  swallows every interruption forever keeps running.
- A rule module is code in our process: a deliberate ``os._exit`` or patching
  of the engine cannot be stopped from inside it (see docs/security.md).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

MIN_TICK = 0.005  # seconds


class RuleTimeout(BaseException):
    """A rule ran past its time limit.

    A BaseException, so a rule's own ``except Exception`` does not swallow it.
    """


class Watchdog:
    """Interrupts a call that runs past ``limit`` seconds; ``None`` means no limit.

    ``caller`` is the function making the calls: a tick that lands in its own
    code (between calls, or handling a result) never raises, so the
    interruption always lands inside the rule and is caught there.
    """

    __slots__ = ("limit", "started", "finished", "overran", "_caller", "_seen", "_since")

    def __init__(self, limit: float | None, caller: Callable) -> None:
        self.limit = limit if limit and limit > 0 else None
        self.started = self.finished = 0  # call counters: a call runs while they differ
        self.overran = False  # set when a call was interrupted; the caller resets it
        self._caller = caller.__code__
        self._seen, self._since = -1, 0.0

    @property
    def armable(self) -> bool:
        return (self.limit is not None and hasattr(signal, "setitimer")
                and threading.current_thread() is threading.main_thread())

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Tick while the block runs (main thread only); the previous SIGALRM handler and timer come back after."""
        if not self.armable:
            yield
            return
        tick = max(self.limit / 10, MIN_TICK)
        previous = signal.signal(signal.SIGALRM, self._tick)
        pending = signal.setitimer(signal.ITIMER_REAL, tick, tick)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            if pending[0] > 0:
                signal.setitimer(signal.ITIMER_REAL, *pending)

    def _tick(self, _signum, frame) -> None:
        call = self.started
        if call == self.finished:
            return
        now = time.monotonic()
        if call != self._seen:  # first seen now: it has run at least this long when it is interrupted
            self._seen, self._since = call, now
            return
        if now - self._since < self.limit or frame is None or frame.f_code is self._caller:
            return
        self.overran = True
        raise RuleTimeout(f"ran longer than the {self.limit:g} s rule time limit")
