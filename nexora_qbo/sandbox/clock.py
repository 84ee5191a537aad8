"""The sandbox clock: real time × speed + an offset that tests/admins can advance.

Why: refresh tokens age over 24 h (§7), CDC refuses windows older than 30 days (§2) and rate limits count per
second/minute (§5); tests must reach all of these without sleeping. One clock serves every realm.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


class SandboxClock:
	def __init__(self, speed: float = 1.0, start: datetime | None = None, real=time.time):
		self._lock = threading.Lock()
		self._real = real
		self._speed = float(speed)
		self._base_real = real()
		self._base = (start or datetime.now(timezone.utc)).astimezone(timezone.utc)

	def now(self) -> datetime:
		with self._lock:
			elapsed = (self._real() - self._base_real) * self._speed
			return self._base + timedelta(seconds=elapsed)

	def timestamp(self) -> float:
		return self.now().timestamp()

	@property
	def speed(self) -> float:
		return self._speed

	def set_speed(self, speed: float) -> None:
		"""Re-base so that the current sandbox time does not jump when the speed changes."""
		with self._lock:
			real = self._real()
			self._base = self._base + timedelta(seconds=(real - self._base_real) * self._speed)
			self._base_real = real
			self._speed = float(speed)

	def advance(self, seconds: float) -> datetime:
		with self._lock:
			self._base = self._base + timedelta(seconds=float(seconds))
		return self.now()
