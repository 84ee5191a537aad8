"""The per-realm Redis lock excludes a second holder (other thread, other "worker"), survives past its TTL
while the holder lives (heartbeat), frees itself when the holder dies, and is re-entrant for the engine."""

from __future__ import annotations

import threading
import time
import uuid

import frappe
import redis
from frappe.tests.utils import FrappeTestCase

from nexora_qbo.erpnext.locks import RealmBusy, RedisRealmLock, hold, is_locked
from nexora_qbo.sync.errors import LockBusy


def _name() -> str:
	return f"test:{uuid.uuid4().hex[:8]}"


def site_thread(target) -> threading.Thread:
	"""A thread with this site's Frappe context (keys are site-namespaced, so they need frappe.conf): it
	stands for another RQ worker; only Redis is shared with the test's own thread."""
	site, sites_path = frappe.local.site, frappe.local.sites_path

	def run():
		frappe.init(site=site, sites_path=sites_path)
		try:
			target()
		finally:
			frappe.destroy()

	return threading.Thread(target=run)


class TestRedisLock(FrappeTestCase):
	def test_second_holder_is_excluded(self):
		name = _name()
		with hold(name, wait=0):
			with self.assertRaises(RealmBusy):
				with hold(name, wait=0):
					pass
			# and from another thread, with a short wait
			errors = []

			def other():
				try:
					with hold(name, wait=0.3):
						pass
				except RealmBusy as exc:
					errors.append(exc)

			thread = site_thread(other)
			thread.start()
			thread.join()
			self.assertEqual(len(errors), 1)
		with hold(name, wait=0):  # released
			pass

	def test_key_is_site_namespaced(self):
		name = _name()
		raw_exists = redis.Redis.exists  # RedisWrapper.exists would prefix the key again
		with hold(name, wait=0):
			self.assertTrue(raw_exists(frappe.cache, frappe.cache.make_key(f"nexora_qbo:lock:{name}")))
			self.assertFalse(raw_exists(frappe.cache, f"nexora_qbo:lock:{name}"))
			self.assertTrue(is_locked(name))
		self.assertFalse(is_locked(name))

	def test_heartbeat_keeps_the_lock_past_its_ttl(self):
		name = _name()
		with hold(name, ttl=1, heartbeat=0.2, wait=0) as handle:
			time.sleep(1.6)
			self.assertTrue(is_locked(name))
			with self.assertRaises(RealmBusy):
				with hold(name, wait=0):
					pass
			self.assertFalse(handle.lost)

	def test_lock_of_a_dead_holder_expires(self):
		name = _name()
		lock = frappe.cache.lock(frappe.cache.make_key(f"nexora_qbo:lock:{name}").decode(), timeout=0.5)
		self.assertTrue(lock.acquire(blocking=False))  # a worker that then dies without releasing
		with self.assertRaises(RealmBusy):
			with hold(name, wait=0):
				pass
		time.sleep(0.7)
		with hold(name, wait=0):
			pass

	def test_engine_port_is_reentrant_and_raises_lock_busy(self):
		lock = RedisRealmLock()
		realm_id = _name()
		with lock.hold(realm_id, timeout=0):
			with lock.hold(realm_id, timeout=0):  # nested hold by the same thread (job + engine)
				pass
			busy = []

			def other():
				try:
					with lock.hold(realm_id, timeout=0.2):
						pass
				except LockBusy:
					busy.append(True)

			thread = site_thread(other)
			thread.start()
			thread.join()
			self.assertEqual(busy, [True])
		with lock.hold(realm_id, timeout=0):
			pass
