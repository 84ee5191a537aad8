"""Errors raised by the sync engine itself (QBO errors live in nexora_qbo.qbo.errors)."""
from __future__ import annotations


class SyncError(Exception):
	"""Base of engine errors."""


class LockBusy(SyncError):
	"""The realm lock is held by another worker; try again later (nothing is lost: the outbox keeps the work)."""


class RealmNotConfigured(SyncError):
	"""No RealmSettings for this realm, or the realm is disabled."""


class DependencyPending(SyncError):
	"""A referenced document (customer, item, invoice) is not in QBO yet; the entry waits for it."""

	def __init__(self, message: str, local_type: str | None = None, local_id: str | None = None):
		super().__init__(message)
		self.local_type = local_type
		self.local_id = local_id


class Unresolvable(SyncError):
	"""A reference cannot be resolved and will not resolve by waiting (needs a person)."""


class CreatesUnacknowledged(SyncError):
	"""QBO has a record we cannot place while some of our own creates of that type are unacknowledged (sent,
	answer lost): it may be one of them. Importing it would book it twice, so the pull waits (cursor kept)."""
