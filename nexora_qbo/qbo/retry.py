"""Retry policy for QBO requests (tenacity): throttles, 5xx and network errors, same requestid every time.

The caller builds the request (URL with requestid, body) ONCE, outside the retry loop, so a retry can
never mint a new requestid: that is what turns "timeout then retry" into a replay instead of a duplicate.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import tenacity

from . import constants as C
from .errors import AuthenticationError, ConnectionFailed, QBOError, ServerError, ThrottleError


@dataclass
class RetryPolicy:
	"""`jitter` is a fraction: each wait is stretched by up to jitter*wait (0.25 -> up to +25 %)."""

	max_attempts: int = 6
	throttle_wait: float = C.THROTTLE_WAIT_SECONDS
	base_backoff: float = 0.5
	max_backoff: float = 30.0
	jitter: float = 0.25
	sleep: Callable[[float], None] = time.sleep
	random: Callable[[], float] = field(default=random.random, repr=False)

	def wait_for(self, error: BaseException, failed_attempts: int) -> float:
		"""Seconds to wait after the `failed_attempts`-th failure raised `error`."""
		if isinstance(error, AuthenticationError):
			return 0.0  # the token was refreshed; resend at once
		retry_after = getattr(error, "retry_after", None)
		if isinstance(error, ThrottleError):
			base = retry_after if retry_after is not None else self.throttle_wait
		else:
			base = min(self.max_backoff, self.base_backoff * (2 ** max(0, failed_attempts - 1)))
			if retry_after is not None:  # a 503 may say when to come back; never earlier than it asks
				base = max(base, retry_after)
		return base + base * self.jitter * self.random()


def should_retry(error: BaseException, *, idempotent: bool) -> bool:
	"""Throttles were not processed; 5xx and network errors are only resent when a replay is harmless.

	Reads and writes carrying a requestid are idempotent. Without one, a 5xx or a connection that died
	after the request was written may already have committed, so it is not resent.
	"""
	if not isinstance(error, QBOError) or not error.retryable:
		return False
	if isinstance(error, ThrottleError):
		return True
	if isinstance(error, ConnectionFailed):
		return idempotent or not error.request_sent
	if isinstance(error, ServerError):
		return idempotent
	return idempotent


def call_with_retry(
	policy: RetryPolicy,
	attempt_fn: Callable[[int], Any],
	*,
	idempotent: bool,
	on_auth_error: Callable[[AuthenticationError], bool] | None = None,
) -> Any:
	"""Run `attempt_fn(attempt_number)` under the policy.

	`on_auth_error` is called on a 401; returning True resends once at once (after a token refresh).
	The 401 resend does not consume a throttle/backoff attempt.
	"""
	state = {"auth_retried": False, "attempt": 0}

	def retry_predicate(retry_state: tenacity.RetryCallState) -> bool:
		outcome = retry_state.outcome
		if outcome is None or not outcome.failed:
			return False
		error = outcome.exception()
		if isinstance(error, AuthenticationError):
			if state["auth_retried"] or on_auth_error is None:
				return False
			state["auth_retried"] = True
			return bool(on_auth_error(error))
		return should_retry(error, idempotent=idempotent)

	def wait(retry_state: tenacity.RetryCallState) -> float:
		error = retry_state.outcome.exception() if retry_state.outcome else None
		return policy.wait_for(error, retry_state.attempt_number) if error else 0.0

	def run() -> Any:
		state["attempt"] += 1
		return attempt_fn(state["attempt"])

	def stop(retry_state: tenacity.RetryCallState) -> bool:
		limit = max(1, policy.max_attempts) + (1 if state["auth_retried"] else 0)
		return retry_state.attempt_number >= limit

	retrying = tenacity.Retrying(
		retry=retry_predicate, wait=wait, stop=stop, sleep=policy.sleep, reraise=True
	)
	return retrying(run)
