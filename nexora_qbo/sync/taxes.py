"""QBO's computed tax against ERPNext's (invariant 7: totals are compared, never silently overridden).

Why: with US automated sales tax (AST) QBO computes the tax itself from the ship-to address and ignores the
codes a client sends (qbo-api.md §9 AST). The sync therefore does not send an override in AST realms; when
QBO's tax lands elsewhere than ERPNext's, the books would disagree on the tax return, so a person sees both
amounts and decides (correct the ERPNext tax template/address, or accept QBO's figure knowingly).
"""
from __future__ import annotations

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R


def tax_difference_reason(label: str, local_id: str, local: dict, resp: dict) -> str | None:
	"""Plain words for a tax difference, or None when QBO's tax equals ERPNext's."""
	qbo_tax = R.money((resp.get("TxnTaxDetail") or {}).get("TotalTax"))
	erp_tax = R.money(local.get("tax_total"))
	if qbo_tax == erp_tax:
		return None
	lbl = C.ACTION_LABELS
	return (
		f"QuickBooks computed sales tax of {qbo_tax} on {label} {local_id}; ERPNext has {erp_tax} (difference "
		f"{qbo_tax - erp_tax}). QuickBooks' automated sales tax uses the rate of the ship-to address and each "
		f"line's taxability. Check the customer's address and exemption and the taxable lines in ERPNext, then "
		f"cancel and amend the invoice so both agree and choose \u201c{lbl[C.ACTION_DISMISS]}\u201d, or choose "
		f"\u201c{lbl[C.ACTION_ACCEPT_DIFFERENCE]}\u201d to keep QuickBooks' tax knowingly."
	)
