# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Tie Out: the AR tie-out of one realm and one day, kept so a month's trend is visible (engine:
nexora_qbo.sync.tieout). Written only by the sync (FrappeStore.save_tie_out); re-running a day replaces the
row, so the key (realmId:as_of) is unique. People read it; the differences and their causes are in `summary`.
"""

from __future__ import annotations

from frappe.model.document import Document


class QBOTieOut(Document):
	pass


def summary_to_fields(summary: dict, realm: str) -> dict:
	"""The row's columns from an engine summary (TieOut.summary())."""
	from nexora_qbo.sync import records as R

	home = summary["totals"]["home"]
	counts = summary["counts"]
	return {
		"realm": realm,
		"as_of": summary["as_of"],
		"run_at": _naive(summary.get("run_at")),
		"home_currency": summary["totals"].get("home_currency"),
		"erpnext_ar": home["erpnext"],
		"qbo_ar": home["qbo"],
		"difference": home["difference"],
		"documents": counts["documents"],
		"customers": counts["customers"],
		"differences": counts["differences"],
		"unexplained": counts["unexplained"],
		"summary": R.dumps(summary),
	}


def _naive(value):
	if not value:
		return None
	from datetime import datetime

	from nexora_qbo.erpnext.token_store import to_db_datetime

	return to_db_datetime(datetime.fromisoformat(value))
