"""Per-realm locks that hold across RQ workers on several hosts: Redis locks with a heartbeat.

Why Redis and not `frappe.utils.synchronization.filelock`: a file lock only excludes processes on one host,
and the scale-out path is several workers on several hosts (architecture.md, "Real parts").
Why a short TTL plus a heartbeat instead of one TTL as long as the job: a worker that is SIGKILLed (OOM,
deploy) cannot release its lock; with a 2-minute TTL the realm is free again two minutes later instead of
after the 25-minute long-queue timeout. The heartbeat thread re-arms the TTL every 30 s while the holder
runs. If the heartbeat ever finds the lock taken over (the holder stalled for longer than the TTL), it
records that on the handle (`lost`) and logs it; the work under the lock is still idempotent by design
(requestid, SyncToken), the lock is an efficiency and ordering guarantee, not the last line of defence.

`frappe.cache.lock()` is plain redis-py and does NOT prefix keys with the site, so every key here goes
through `frappe.cache.make_key()`: two sites on one Redis never share a realm lock.
"""

from __future__ import annotations

import logging
import threading
from contextlib import ExitStack, contextmanager
from typing import Iterator

import frappe
from redis.exceptions import LockError, LockNotOwnedError

from nexora_qbo.erpnext import constants as K

# the heartbeat thread has no Frappe site context: plain logging only
log = logging.getLogger("nexora_qbo.locks")


class RealmBusy(Exception):
	"""The lock is held by someone else and did not come free within the wait."""


def _lock_key(name: str) -> str:
	return frappe.cache.make_key(f"nexora_qbo:lock:{name}").decode()


class _Heartbeat:
	"""Re-arms the lock TTL while the holder runs (daemon thread; stops when the block exits)."""

	def __init__(self, lock, interval: float, name: str):
		self.lock = lock
		self.interval = interval
		self.name = name
		self.lost = False
		self._stop = threading.Event()
		self._thread = threading.Thread(target=self._run, name=f"qbo-lock-heartbeat:{name}", daemon=True)

	def start(self) -> None:
		self._thread.start()

	def stop(self) -> None:
		self._stop.set()
		self._thread.join(timeout=5)

	def _run(self) -> None:
		while not self._stop.wait(self.interval):
			try:
				self.lock.reacquire()
			except (LockNotOwnedError, LockError):
				self.lost = True
				log.error("QBO lock %s was lost while held", self.name)
				return
			except Exception:  # Redis hiccup: try again at the next beat; the TTL still covers us
				log.warning("QBO lock %s: heartbeat failed", self.name, exc_info=True)


class LockHandle:
	"""What `hold()` yields: `lost` turns True if the lock expired under the holder."""

	def __init__(self, name: str, heartbeat: _Heartbeat | None):
		self.name = name
		self._heartbeat = heartbeat

	@property
	def lost(self) -> bool:
		return bool(self._heartbeat and self._heartbeat.lost)


@contextmanager
def hold(
	name: str,
	*,
	ttl: float = K.REALM_LOCK_TTL,
	wait: float | None = K.REALM_LOCK_WAIT,
	heartbeat: float | None = K.REALM_LOCK_HEARTBEAT,
) -> Iterator[LockHandle]:
	"""Hold the named Redis lock for the `with` block, or raise RealmBusy after `wait` seconds.

	`wait=None` waits forever, `wait=0` does not wait at all. `heartbeat=None` disables the TTL extension
	(for short critical sections such as a token refresh).
	"""
	lock = frappe.cache.lock(
		_lock_key(name),
		timeout=ttl,
		sleep=0.05,
		blocking=wait != 0,
		blocking_timeout=wait if wait else None,
		thread_local=False,  # the heartbeat thread must see the same token
	)
	if not lock.acquire():
		raise RealmBusy(f"{name} is held by another worker")
	beat = _Heartbeat(lock, heartbeat, name) if heartbeat else None
	if beat:
		beat.start()
	try:
		yield LockHandle(name, beat)
	finally:
		if beat:
			beat.stop()
		try:
			lock.release()
		except (LockNotOwnedError, LockError):
			# expired and possibly taken by another holder: never delete someone else's lock
			frappe.logger("nexora_qbo").warning(f"QBO lock {name} had expired before release")


def realm_lock_name(realm_id: str) -> str:
	return f"realm:{realm_id}"


def token_lock_factory(name: str):
	"""The `LockFactory` the QBO TokenManager takes: name (e.g. "qbo-token:<realm>") -> context manager.

	Single-flight refresh across workers (invariant 6): the TokenManager re-reads the store inside this lock.
	"""
	return hold(name, ttl=K.TOKEN_LOCK_TTL, wait=K.TOKEN_LOCK_WAIT, heartbeat=None)


_held = threading.local()


class RedisRealmLock:
	"""The engine's RealmLock port (nexora_qbo.sync.ports.RealmLock) on Redis.

	Re-entrant within one thread (the engine may nest holds, and a job entry point holds the realm around
	pull + push): a Redis lock is not, so nested holds are counted here instead of re-acquired.
	"""

	def hold(self, realm_id: str, timeout: float | None = None):
		return _engine_hold(realm_id, timeout)


@contextmanager
def _engine_hold(realm_id: str, timeout: float | None):
	from nexora_qbo.sync.errors import LockBusy

	counts = _held.__dict__.setdefault("counts", {})
	if counts.get(realm_id):
		counts[realm_id] += 1
		try:
			yield
		finally:
			counts[realm_id] -= 1
		return
	with ExitStack() as stack:
		try:
			stack.enter_context(hold(realm_lock_name(realm_id), wait=timeout))
		except RealmBusy as exc:
			raise LockBusy(str(exc)) from exc
		counts[realm_id] = 1
		try:
			yield
		finally:
			counts[realm_id] = 0


def is_locked(name: str) -> bool:
	# RedisWrapper.exists() applies make_key() itself
	return bool(frappe.cache.exists(f"nexora_qbo:lock:{name}"))
