"""Per-realm request pacing below QBO's throttle limits (10/s, 500/min, 40 batch/min per realm).

Why a sliding-window log rather than a classic refilling bucket: a bucket of capacity C refilled at r
admits C + r*T requests in a window of length T, so a "10/s" bucket can put ~2x the limit into one sliding
second, and QBO answers that with 429 + a 60 s penalty. Here each realm keeps the grant times of the last
`limit` requests per window (the bucket's tokens are those timestamps): a request is granted only if every
window ending now holds fewer than its limit, which holds for EVERY sliding window, so also for fixed ones.

Grants are also spaced at least 1/per_second apart (`spacing=True`, the default). QBO counts requests when
they ARRIVE, not when we sent them: a burst of 8 followed 1.0 s later by another burst lands as 9-16 in one
server-side second as soon as network latency varies. Even spacing leaves room for that jitter at no cost
in throughput (the per-second limit is the steady rate anyway).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from . import constants as C

_MIN_SLEEP = 1e-6


@dataclass(frozen=True)
class RateLimits:
	per_second: int = C.QBO_PER_SECOND
	per_minute: int = C.QBO_PER_MINUTE
	batch_per_minute: int = C.QBO_BATCH_PER_MINUTE


QBO_LIMITS = RateLimits()
DEFAULT_LIMITS = RateLimits(C.PACE_PER_SECOND, C.PACE_PER_MINUTE, C.PACE_BATCH_PER_MINUTE)


class Pacer(Protocol):
	def acquire(self, realm_id: str, *, batch: bool = False) -> None:
		"""Block until one more request (or batch request) for this realm stays within the limits."""


class _Window:
	"""Grant times inside one window length, capped at `limit` entries."""

	__slots__ = ("length", "limit", "times")

	def __init__(self, length: float, limit: int):
		if limit < 1:
			raise ValueError("rate limits must be >= 1")
		self.length = length
		self.limit = limit
		self.times: deque[float] = deque()

	def wait(self, now: float) -> float:
		"""Seconds until one more grant fits (0 if it fits now)."""
		while self.times and now - self.times[0] >= self.length:
			self.times.popleft()
		if len(self.times) < self.limit:
			return 0.0
		return self.times[-self.limit] + self.length - now

	def record(self, now: float) -> None:
		self.times.append(now)
		while len(self.times) > self.limit:
			self.times.popleft()


class _RealmState:
	def __init__(self, limits: RateLimits):
		self.last_grant: float | None = None
		self.second = _Window(1.0, limits.per_second)
		self.minute = _Window(60.0, limits.per_minute)
		self.batch = _Window(60.0, limits.batch_per_minute)


class InMemoryPacer:
	"""Thread-safe in-process pacer; clock and sleep are injectable so tests never sleep for real.

	A batch request counts against the general per-second/per-minute windows too (QBO's 500/min
	includes batch) and, additionally, against the batch window.
	"""

	def __init__(
		self,
		limits: RateLimits = DEFAULT_LIMITS,
		clock: Callable[[], float] = time.monotonic,
		sleep: Callable[[float], None] = time.sleep,
		on_grant: Callable[[str, float, bool], None] | None = None,
		spacing: bool = True,
	):
		"""`on_grant(realm_id, clock_time, batch)` runs under the lock at each grant (metrics, tests)."""
		self.limits = limits
		self.on_grant = on_grant
		self.min_interval = 1.0 / limits.per_second if spacing else 0.0
		self.clock = clock
		self.sleep = sleep
		self._lock = threading.Lock()
		self._realms: dict[str, _RealmState] = {}

	def acquire(self, realm_id: str, *, batch: bool = False) -> None:
		while True:
			with self._lock:
				state = self._realms.get(realm_id)
				if state is None:
					state = self._realms[realm_id] = _RealmState(self.limits)
				windows = [state.second, state.minute] + ([state.batch] if batch else [])
				now = self.clock()
				wait = max(window.wait(now) for window in windows)
				if state.last_grant is not None and self.min_interval:
					wait = max(wait, state.last_grant + self.min_interval - now)
				if wait <= 0:
					for window in windows:
						window.record(now)
					state.last_grant = now
					if self.on_grant is not None:
						self.on_grant(realm_id, now, batch)
					return
			self.sleep(max(wait, _MIN_SLEEP))
