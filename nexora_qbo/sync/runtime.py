"""Reference implementations of the Clock and RealmLock ports (no Frappe, no Redis)."""
from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

from nexora_qbo.sync.errors import LockBusy


class SystemClock:
	def now(self) -> datetime:
		return datetime.now(timezone.utc)


class ManualClock:
	"""A clock tests move by hand (`advance`); starts at `start` (aware)."""

	def __init__(self, start: datetime | None = None):
		self._now = start or datetime.now(timezone.utc)

	def now(self) -> datetime:
		return self._now

	def set(self, value: datetime) -> None:
		self._now = value

	def advance(self, **kwargs: float) -> datetime:
		self._now = self._now + timedelta(**kwargs)
		return self._now


class FileRealmLock:
	"""Per-realm exclusive lock on a file (fcntl.flock): holds across processes on one host and is released
	by the kernel when the holder dies (SIGKILL included), so a crashed worker never wedges a realm.
	Also re-entrant within one thread of one process (the engine may nest holds)."""

	def __init__(self, directory: str, poll: float = 0.05):
		self.directory = str(directory)
		os.makedirs(self.directory, exist_ok=True)
		self.poll = poll
		self._local = threading.local()
		self._guard = threading.Lock()
		self._thread_locks: dict[str, threading.Lock] = {}

	def _path(self, realm_id: str) -> str:
		digest = hashlib.sha256(realm_id.encode()).hexdigest()[:16]
		return os.path.join(self.directory, f"realm-{digest}.lock")

	@contextmanager
	def hold(self, realm_id: str, timeout: float | None = None) -> Iterator[None]:
		held = getattr(self._local, "held", None)
		if held is None:
			held = self._local.held = {}
		if held.get(realm_id):
			held[realm_id] += 1
			try:
				yield
			finally:
				held[realm_id] -= 1
			return
		with self._guard:
			tlock = self._thread_locks.setdefault(realm_id, threading.Lock())
		if not tlock.acquire(timeout=-1 if timeout is None else timeout):
			raise LockBusy(f"realm {realm_id} is being synced by another worker")
		fd = os.open(self._path(realm_id), os.O_RDWR | os.O_CREAT, 0o644)
		try:
			deadline = None if timeout is None else time.monotonic() + timeout
			while True:
				try:
					fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
					break
				except BlockingIOError:
					if deadline is not None and time.monotonic() >= deadline:
						raise LockBusy(f"realm {realm_id} is being synced by another worker") from None
					time.sleep(self.poll)
			held[realm_id] = 1
			try:
				yield
			finally:
				held[realm_id] = 0
				fcntl.flock(fd, fcntl.LOCK_UN)
		finally:
			os.close(fd)
			tlock.release()
