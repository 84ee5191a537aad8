"""The QBO Pacer protocol shared by every worker of a site through Redis.

QBO's limits are per realm (10 req/s, 500 req/min, 40 batch req/min), while Frappe runs many RQ workers
on one or several hosts: an in-process pacer would let N workers send N times the limit. Here the state
lives in Redis, one sorted set per (realm, window), and one Lua script decides atomically.

Why a sliding-window log (the same rule as nexora_qbo.qbo.pacer.InMemoryPacer): a request is granted only
when EVERY window ending now holds fewer grants than its limit, so no sliding second or minute ever holds
more than the limit. Fixed "INCR per second" buckets let 2x the limit through across a boundary, which QBO
answers with a 429 and a 60 s penalty.
Why Redis' own clock (`TIME` inside the script): workers on several hosts have skewed clocks; one clock
decides.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import frappe

from nexora_qbo.erpnext import constants as K

# KEYS: one sorted set per window. ARGV: member, then (limit, window_us) per key.
# Returns 0 when granted (the grant is recorded in every window), else microseconds to wait.
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local member = ARGV[1]
local wait = 0
for i, key in ipairs(KEYS) do
	local limit = tonumber(ARGV[2 * i])
	local width = tonumber(ARGV[2 * i + 1])
	redis.call('ZREMRANGEBYSCORE', key, '-inf', now - width)
	local count = redis.call('ZCARD', key)
	if count >= limit then
		local oldest = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
		local w = tonumber(oldest[2]) + width - now
		if w > wait then wait = w end
	end
end
if wait > 0 then
	return wait
end
for i, key in ipairs(KEYS) do
	local width = tonumber(ARGV[2 * i + 1])
	redis.call('ZADD', key, now, member .. ':' .. now)
	redis.call('PEXPIRE', key, math.ceil(width / 1000) + 1000)
end
return 0
"""


def _default_limits():
	from nexora_qbo.qbo.pacer import DEFAULT_LIMITS

	return DEFAULT_LIMITS


class RedisPacer:
	"""`acquire(realm_id, batch=False)` blocks until one more request stays within every window.

	`limits` is a nexora_qbo.qbo.pacer.RateLimits (default: DEFAULT_LIMITS, paced below QBO's numbers).
	Window lengths are injectable so tests and benchmarks can run a scaled clock (e.g. 0.2 s "seconds").
	A batch request also counts against the general windows (QBO's 500/min includes batch requests).
	"""

	def __init__(
		self,
		limits=None,
		*,
		second_window: float = K.PACER_SECOND_WINDOW,
		minute_window: float = K.PACER_MINUTE_WINDOW,
		sleep: Callable[[float], None] = time.sleep,
		namespace: str = "pacer",
		redis=None,
	):
		self.limits = limits or _default_limits()
		self.second_window = second_window
		self.minute_window = minute_window
		self.sleep = sleep
		self.namespace = namespace
		self._redis = redis
		self._script = None
		self._member = uuid.uuid4().hex[:12]
		self._seq = 0

	@property
	def redis(self):
		return self._redis or frappe.cache

	def _key(self, realm_id: str, window: str) -> str:
		return frappe.cache.make_key(f"nexora_qbo:{self.namespace}:{realm_id}:{window}").decode()

	def _windows(self, realm_id: str, batch: bool) -> list[tuple[str, int, int]]:
		windows = [
			(self._key(realm_id, "s"), self.limits.per_second, int(self.second_window * 1_000_000)),
			(self._key(realm_id, "m"), self.limits.per_minute, int(self.minute_window * 1_000_000)),
		]
		if batch:
			windows.append(
				(self._key(realm_id, "b"), self.limits.batch_per_minute, int(self.minute_window * 1_000_000))
			)
		return windows

	def try_acquire(self, realm_id: str, *, batch: bool = False) -> float:
		"""One atomic attempt: 0.0 if granted, else the seconds to wait before the next attempt."""
		if self._script is None:
			self._script = self.redis.register_script(_LUA)
		windows = self._windows(realm_id, batch)
		self._seq += 1
		args: list = [f"{self._member}:{self._seq}"]
		for _key, limit, width in windows:
			args.extend([int(limit), width])
		wait_us = self._script(keys=[w[0] for w in windows], args=args)
		return int(wait_us) / 1_000_000

	def acquire(self, realm_id: str, *, batch: bool = False) -> None:
		while True:
			wait = self.try_acquire(realm_id, batch=batch)
			if wait <= 0:
				return
			self.sleep(min(max(wait, 0.001), K.PACER_MAX_SLEEP))

	def reset(self, realm_id: str) -> None:
		"""Forget a realm's grants (tests, or after a long outage)."""
		for window in ("s", "m", "b"):
			self.redis.delete(self._key(realm_id, window))
