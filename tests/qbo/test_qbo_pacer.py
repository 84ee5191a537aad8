"""Pacer: no sliding window ever exceeds its limit, per realm, across threads (injected clock, no sleep)."""

from __future__ import annotations

import bisect
import threading

from qbo_testkit import FakeClock

from nexora_qbo.qbo import DEFAULT_LIMITS, QBO_LIMITS, InMemoryPacer, RateLimits


def max_in_window(times: list[float], length: float) -> int:
	"""The largest number of grants inside any half-open window [t, t+length) starting at a grant."""
	times = sorted(times)
	return max((bisect.bisect_left(times, t + length) - i for i, t in enumerate(times)), default=0)


def recording_pacer(limits: RateLimits = DEFAULT_LIMITS):
	clock = FakeClock()
	grants: list[tuple[str, float, bool]] = []
	pacer = InMemoryPacer(
		limits, clock=clock, sleep=clock.sleep, on_grant=lambda r, t, b: grants.append((r, t, b))
	)
	return pacer, clock, grants


def test_default_limits_stay_below_qbo_limits():
	assert DEFAULT_LIMITS.per_second < QBO_LIMITS.per_second == 10
	assert DEFAULT_LIMITS.per_minute < QBO_LIMITS.per_minute == 500
	assert DEFAULT_LIMITS.batch_per_minute < QBO_LIMITS.batch_per_minute == 40


def test_burst_of_1000_never_exceeds_any_sliding_window():
	pacer, clock, grants = recording_pacer()
	for _ in range(1000):
		pacer.acquire("realm-a")
	times = [t for _, t, _ in grants]
	assert len(times) == 1000
	assert max_in_window(times, 1.0) == DEFAULT_LIMITS.per_second
	assert max_in_window(times, 60.0) == DEFAULT_LIMITS.per_minute
	# and it does not dawdle: 1000 requests at 450/min need a bit over two minutes, not much more
	assert 120.0 <= times[-1] - times[0] < 140.0
	assert clock.sleeps and all(s > 0 for s in clock.sleeps)


def test_qbo_limits_themselves_are_respected_exactly():
	pacer, _, grants = recording_pacer(QBO_LIMITS)
	for _ in range(1000):
		pacer.acquire("r")
	times = [t for _, t, _ in grants]
	assert max_in_window(times, 1.0) <= 10 and max_in_window(times, 60.0) <= 500


def test_batch_requests_use_their_own_minute_window_and_the_general_ones():
	pacer, _, grants = recording_pacer()
	for index in range(300):
		pacer.acquire("r", batch=index % 3 == 0)
	batch_times = [t for _, t, b in grants if b]
	all_times = [t for _, t, _ in grants]
	assert len(batch_times) == 100
	assert max_in_window(batch_times, 60.0) == DEFAULT_LIMITS.batch_per_minute
	assert max_in_window(all_times, 1.0) <= DEFAULT_LIMITS.per_second
	assert max_in_window(all_times, 60.0) <= DEFAULT_LIMITS.per_minute


def test_realms_are_paced_independently():
	clock = FakeClock()
	grants: list = []
	pacer = InMemoryPacer(
		RateLimits(per_second=2, per_minute=100, batch_per_minute=5),
		clock=clock,
		sleep=clock.sleep,
		on_grant=lambda r, t, b: grants.append((r, t)),
		spacing=False,
	)
	pacer.acquire("a")
	pacer.acquire("a")
	pacer.acquire("b")  # realm a is full for this second; b must not wait
	assert clock.sleeps == []
	pacer.acquire("a")
	assert clock.sleeps == [1.0]  # the third one for realm a waited for the window
	assert [r for r, _ in grants] == ["a", "a", "b", "a"]


def test_grants_are_spaced_evenly_by_default():
	"""Bursts that are legal at our clock land as illegal bursts at QBO's when latency varies."""
	pacer, _, grants = recording_pacer(RateLimits(per_second=4, per_minute=100, batch_per_minute=5))
	for _ in range(9):
		pacer.acquire("r")
	times = [t for _, t, _ in grants]
	gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
	assert all(gap >= 0.25 - 1e-9 for gap in gaps)
	assert max_in_window(times, 1.0) == 4


def test_threads_sharing_a_pacer_never_exceed_the_limits():
	pacer, _, grants = recording_pacer(RateLimits(per_second=5, per_minute=120, batch_per_minute=10))

	def worker():
		for _ in range(60):
			pacer.acquire("shared")

	threads = [threading.Thread(target=worker) for _ in range(8)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join()
	times = [t for _, t, _ in grants]
	assert len(times) == 480
	assert max_in_window(times, 1.0) <= 5
	assert max_in_window(times, 60.0) <= 120
