"""A realm's health and its setup checklist, in the words the realm form and the workspace show.

Why its own module: "is this company's sync healthy?" is asked by the realm form, the workspace block and
the digest alike, and must get one answer: Connected / Needs reconnect / QuickBooks unreachable since …
"""

from __future__ import annotations

import frappe
from frappe import _
from frappe.utils import format_datetime

from nexora_qbo.erpnext import constants as K


def health(realm) -> dict:
	"""{"label", "color"} for a QBO Realm document or row (connection_status, unreachable_since)."""
	status = realm.get("connection_status")
	if status == K.NEEDS_RECONNECT:
		return {"label": _(K.HEALTH_NEEDS_RECONNECT), "color": "red"}
	if status != K.CONNECTED:
		return {"label": _(K.HEALTH_NOT_CONNECTED), "color": "gray"}
	if realm.get("unreachable_since"):
		since = format_datetime(realm.get("unreachable_since"), "d MMM yyyy HH:mm")
		return {"label": _(K.HEALTH_UNREACHABLE).format(since=since), "color": "orange"}
	return {"label": _(K.HEALTH_CONNECTED), "color": "green"}


def setup_steps(realm) -> list[dict]:
	"""Connect -> Initial import -> mappings -> go-live date: each step done or not, with what to do next."""
	connected = realm.get("connection_status") == K.CONNECTED
	import_status = realm.get("initial_import_status") or K.IMPORT_NOT_STARTED
	defaults = [realm.get(f) for f in ("receivable_account", "income_account", "payment_account")]
	return [
		{
			"key": "connect",
			"label": _("Connect to QuickBooks"),
			"done": connected,
			"hint": _("Fill in the Intuit app's Client ID and Secret, then click Connect to QuickBooks."),
		},
		{
			"key": "import",
			"label": _("Initial import"),
			"done": import_status == K.IMPORT_DONE,
			"status": import_status,
			"hint": _("Click Initial Import (under Sync) to bring QuickBooks' customers and items here."),
		},
		{
			"key": "mappings",
			"label": _("Accounts and mappings"),
			"done": all(defaults),
			"hint": _(
				"Set the Receivable, Income and Deposit To accounts under ERPNext Defaults (and map terms, "
				"classes and tax codes under Reference Maps)."
			),
		},
		{
			"key": "go_live",
			"label": _("Go-live date"),
			"done": bool(realm.get("sync_start_date")),
			"hint": _("Set the Go-live Date under Sync Policy: documents dated before it are never synced."),
		},
	]
