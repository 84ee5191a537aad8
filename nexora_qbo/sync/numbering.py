"""Document identity: QBO's own number kept on the ERPNext document.

Why: with custom transaction numbers off in QBO, QBO numbers an invoice itself (1001, 1002…) and the customer
sees that number; the ERPNext invoice must show it too, so that a customer quoting "invoice 1001" is found in
ERPNext. A QBO-born invoice carries it in its imported record (doc_number); for a pushed one the QBO number
in QBO's answer is handed to the ledger's optional `note_qbo_number` (ports.Ledger, additive).
"""
from __future__ import annotations

from nexora_qbo.sync import constants as C


def keep_qbo_number(ledger, ctx, spec, local_id: str, local: dict, resp: dict) -> None:
	"""Hand QBO's number of a pushed invoice/credit note to the ledger when it differs from ours."""
	if spec.local_type not in (C.INVOICE, C.CREDIT_MEMO):
		return
	number = resp.get("DocNumber")
	note = getattr(ledger, "note_qbo_number", None)
	if not number or note is None or str(number) == str(local.get("doc_number") or ""):
		return
	note(ctx.company, spec.local_type, local_id, str(number))
