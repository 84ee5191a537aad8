"""Error Log entries that cannot carry a secret.

Why: `frappe.log_error()` without a message (and RQ's `execute_job` on a failed job) records the traceback
WITH every frame's local variables. Around a token refresh or a revoke those locals are the refresh token,
the request body holding it, `OAuthTokens`, the client secret. So the app logs its own errors with a
traceback that has no locals (source lines and exception messages only; our exceptions carry redacted
bodies), passed through the audit redaction once more, and job entry points re-raise a scrubbed exception
whose traceback starts at the entry point, so Frappe's own log of the failed job has no secret-bearing
frames either.
"""

from __future__ import annotations

import sys
import traceback

import frappe

from nexora_qbo.qbo.exchange import redact_text


def format_without_locals(exc: BaseException | None = None) -> str:
	if exc is None:
		exc = sys.exc_info()[1]
	if exc is None:
		return ""
	text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
	return redact_text(text) or ""


def log_error(title: str, exc: BaseException | None = None, **kwargs):
	"""frappe.log_error with a locals-free traceback of `exc` (default: the exception being handled)."""
	return frappe.log_error(title=title, message=format_without_locals(exc) or title, **kwargs)


def scrubbed(exc: BaseException) -> BaseException:
	"""The same exception without its traceback and chain: `raise scrubbed(exc) from None` inside an entry
	point makes the frames below it (the ones holding tokens) unreachable for whoever logs it next."""
	exc.__cause__ = None
	exc.__context__ = None
	exc.__suppress_context__ = True
	return exc.with_traceback(None)
