"""Who may change the sync's bookkeeping rows (QBO Entity Map, Outbox, Cursor, Conflict): only the engine.

Why: these rows are the app's state, not user data. An edited map (realm, qbo_id) sends the next update to
another QBO record or another realm; a deleted conflict strands the entries parked on it. DocType
permissions give every role read only, but Administrator passes every permission check and a System
Manager can grant himself anything, so the controllers refuse too, unless the engine's own code path is
writing (`engine_writes()`). The flag lives in `frappe.flags` (per request / per job, in process): no
request parameter can set it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import frappe
from frappe import _
from frappe.model.document import Document

from nexora_qbo.erpnext import constants as K


@contextmanager
def engine_writes() -> Iterator[None]:
	"""Mark the block as the engine (or the reset action) writing its own bookkeeping rows; nests."""
	depth = frappe.flags.get(K.ENGINE_WRITE_FLAG) or 0
	frappe.flags[K.ENGINE_WRITE_FLAG] = depth + 1
	try:
		yield
	finally:
		frappe.flags[K.ENGINE_WRITE_FLAG] = depth


def engine_is_writing() -> bool:
	return bool(frappe.flags.get(K.ENGINE_WRITE_FLAG)) or bool(frappe.flags.in_uninstall)


def refuse_unless_engine(doc, action: str) -> None:
	"""Controller guard for validate/on_trash of a bookkeeping DocType (even for Administrator)."""
	if engine_is_writing():
		return
	frappe.throw(
		_("{0} rows are the sync's own state: they cannot be {1} by hand.").format(_(doc.doctype), _(action)),
		frappe.PermissionError,
	)


def engine_insert(doc) -> None:
	"""Insert one of the engine's own bookkeeping rows (outbox intent, entity map, sync event) with a plain
	INSERT instead of `doc.insert()`: these rows have no controller logic besides the engine-only guard, and
	the generic machinery (every app's "*" validate hooks, e.g. ERPNext's SLA and deletion-job checks, the
	Entity Map's own duplicate SELECTs that its unique indexes already enforce) was a large share of a push
	and of the submit hook (issue 9 bench). Still refused outside the engine; defaults, name (autoincrement
	or hash), owner and timestamps are set as insert sets them; unique indexes raise UniqueValidationError;
	the list views are still told (after commit)."""
	with engine_writes():
		refuse_unless_engine(doc, "created")
		doc._set_defaults()
		doc.docstatus = 0
		doc.db_insert()
	doc.notify_update()


class EngineOwnedDocument(Document):
	"""Base of the bookkeeping DocTypes' controllers: insert/save refuse before any of Frappe's own checks
	(links, timestamps), so a hand-made change is always refused for this reason; on_trash refuses too."""

	def insert(self, *args, **kwargs):
		refuse_unless_engine(self, "created")
		return super().insert(*args, **kwargs)

	def save(self, *args, **kwargs):
		refuse_unless_engine(self, "created" if self.is_new() else "edited")
		return super().save(*args, **kwargs)

	def validate(self):
		refuse_unless_engine(self, "created or edited")

	def on_trash(self):
		refuse_unless_engine(self, "deleted")


# Secrets of a QBO Realm that no one reads back through the API, not even a System Manager: the tokens
# only ever leave the server towards the realm's own token/API host.
REALM_SECRET_FIELDS = (
	"access_token",
	"refresh_token",
	"token_state",
	K.PENDING_REVOKE_FIELD,
	"client_secret",
	"webhook_verifier_token",
)


@frappe.whitelist()
def get_password(doctype: str, name: str, fieldname: str):
	"""Replaces `frappe.client.get_password` (hooks.override_whitelisted_methods): the same rule as Frappe's
	(System Manager only) except that a QBO Realm's secrets are never returned."""
	if doctype == K.REALM and fieldname in REALM_SECRET_FIELDS:
		frappe.throw(_("QuickBooks secrets cannot be read back."), frappe.PermissionError)
	frappe.only_for("System Manager")
	return frappe.get_doc(doctype, name).get_password(fieldname)
