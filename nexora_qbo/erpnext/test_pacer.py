"""The Redis pacer never lets more than the limit through in any sliding window, across threads and across
pacer instances (= workers), and keeps realms apart."""

from __future__ import annotations

import threading
import time
import uuid

from frappe.tests.utils import FrappeTestCase

from nexora_qbo.erpnext.pacer import RedisPacer
from nexora_qbo.erpnext.test_locks import site_thread
from nexora_qbo.qbo.pacer import RateLimits

WINDOW = 0.5  # a scaled "second"


def max_in_window(times: list[float], width: float) -> int:
	times = sorted(times)
	best, start = 0, 0
	for end, t in enumerate(times):
		while t - times[start] >= width:
			start += 1
		best = max(best, end - start + 1)
	return best


class TestRedisPacer(FrappeTestCase):
	def _pacer(self, namespace: str, **limits) -> RedisPacer:
		values = {"per_second": 5, "per_minute": 1000, "batch_per_minute": 1000, **limits}
		return RedisPacer(RateLimits(**values), second_window=WINDOW, minute_window=60, namespace=namespace)

	def test_never_more_than_the_limit_in_any_window_across_workers(self):
		namespace = f"test-{uuid.uuid4().hex[:8]}"
		realm = "9130000000801"
		granted: list[float] = []
		guard = threading.Lock()

		def worker():
			pacer = self._pacer(namespace)  # each "worker" has its own instance: only Redis is shared
			for _ in range(5):
				pacer.acquire(realm)
				with guard:
					granted.append(time.monotonic())

		threads = [site_thread(worker) for _ in range(4)]
		started = time.monotonic()
		for t in threads:
			t.start()
		for t in threads:
			t.join()
		self.assertEqual(len(granted), 20)
		# 20 grants at 5 per 0.5 s need at least 3 full windows
		self.assertGreaterEqual(time.monotonic() - started, 3 * WINDOW - 0.05)
		# a few ms of tolerance for the gap between Redis' grant and our timestamp
		self.assertLessEqual(max_in_window(granted, WINDOW - 0.02), 5)

	def test_batch_requests_have_their_own_lower_limit(self):
		pacer = self._pacer(f"test-{uuid.uuid4().hex[:8]}", per_second=100, batch_per_minute=2)
		self.assertEqual(pacer.try_acquire("r", batch=True), 0)
		self.assertEqual(pacer.try_acquire("r", batch=True), 0)
		self.assertGreater(pacer.try_acquire("r", batch=True), 0)  # third batch in the minute must wait
		self.assertEqual(pacer.try_acquire("r"), 0)  # plain requests are still fine

	def test_realms_are_paced_separately(self):
		pacer = self._pacer(f"test-{uuid.uuid4().hex[:8]}", per_second=1)
		self.assertEqual(pacer.try_acquire("realm-a"), 0)
		self.assertGreater(pacer.try_acquire("realm-a"), 0)
		self.assertEqual(pacer.try_acquire("realm-b"), 0)
