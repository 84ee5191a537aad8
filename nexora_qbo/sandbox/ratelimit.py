"""Per-realm request limits measured on the sandbox clock (qbo-api.md §5: 500/min, 10/s, 40 batch/min).

Sliding windows of accepted requests; a refused request is not counted, so a client that waits out the window
gets through. Limits come from RealmOptions and can be changed at runtime (admin API / Python API).
"""

from __future__ import annotations

import threading
from collections import deque


class RateLimiter:
	def __init__(self, options):
		self.options = options
		self._lock = threading.Lock()
		self._second: deque = deque()
		self._minute: deque = deque()
		self._batch: deque = deque()

	@staticmethod
	def _trim(window: deque, now: float, span: float) -> None:
		while window and window[0] <= now - span:
			window.popleft()

	def allow(self, now: float, batch: bool = False) -> bool:
		o = self.options
		with self._lock:
			self._trim(self._second, now, 1.0)
			self._trim(self._minute, now, 60.0)
			self._trim(self._batch, now, 60.0)
			if o.per_second and len(self._second) >= o.per_second:
				return False
			if o.per_minute and len(self._minute) >= o.per_minute:
				return False
			if batch and o.batch_per_minute and len(self._batch) >= o.batch_per_minute:
				return False
			self._second.append(now)
			self._minute.append(now)
			if batch:
				self._batch.append(now)
			return True

	def reset(self) -> None:
		with self._lock:
			self._second.clear()
			self._minute.clear()
			self._batch.clear()
