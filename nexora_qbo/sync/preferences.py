"""QBO's Preferences as the mapping reads them (qbo-api.md §9 "CompanyInfo, Preferences", §9 US AST).

Why: what a document may carry depends on how the QBO company is set up, not on what ERPNext has. Class
tracking per line or per transaction, location (Department) tracking, sales tax on/off, US automated sales tax
(`TaxPrefs.PartnerTaxEnabled`), custom transaction numbers and multicurrency are read from QBO at connect and
on each import (`SyncEngine.read_preferences`) and kept on the realm settings; the entity specs follow them.

An empty `RealmSettings.preferences` means "never read": every helper then answers as the mapping behaved
before preferences were read (send what the document has), so realms connected earlier keep working.
"""
from __future__ import annotations


from typing import Any

from nexora_qbo.sync.ports import RealmSettings


def summarize(prefs: dict, company_info: dict | None = None) -> dict[str, Any]:
	"""The flags the mapping uses, from a raw Preferences (and CompanyInfo) answer."""
	acct = prefs.get("AccountingInfoPrefs") or {}
	tax = prefs.get("TaxPrefs") or {}
	forms = prefs.get("SalesFormsPrefs") or {}
	cur = prefs.get("CurrencyPrefs") or {}
	country = (company_info or {}).get("Country") or ((company_info or {}).get("CompanyAddr") or {}).get("Country")
	return {
		"read": True,
		"class_per_txn": bool(acct.get("ClassTrackingPerTxn")),
		"class_per_line": bool(acct.get("ClassTrackingPerTxnLine")),
		"track_departments": bool(acct.get("TrackDepartments")),
		"sales_tax": bool(tax.get("UsingSalesTax", True)),
		"automated_sales_tax": bool(tax.get("PartnerTaxEnabled")),
		"custom_txn_numbers": bool(forms.get("CustomTxnNumbers")),
		"multicurrency": bool(cur.get("MultiCurrencyEnabled")),
		"home_currency": (cur.get("HomeCurrency") or {}).get("value"),
		"country": country or "US",
	}


def _p(s: RealmSettings) -> dict:
	return getattr(s, "preferences", None) or {}


def known(s: RealmSettings) -> bool:
	return bool(_p(s).get("read"))


def multicurrency(s: RealmSettings) -> bool:
	"""Multicurrency on in QBO, or preferences never read (then the rate exchange is tried)."""
	return not known(s) or bool(_p(s).get("multicurrency"))


def sends_header_class(s: RealmSettings) -> bool:
	return not known(s) or _p(s).get("class_per_txn", False)


def sends_line_class(s: RealmSettings) -> bool:
	return not known(s) or _p(s).get("class_per_line", False)


def sends_location(s: RealmSettings) -> bool:
	return not known(s) or _p(s).get("track_departments", False)


def sales_tax(s: RealmSettings) -> bool:
	return not known(s) or _p(s).get("sales_tax", True)


def automated_sales_tax(s: RealmSettings) -> bool:
	"""US AST: QBO computes the tax itself from the ship-to address; lines only say TAX or NON."""
	return known(s) and bool(_p(s).get("automated_sales_tax"))


def us_tax_model(s: RealmSettings) -> bool:
	"""US companies mark lines with the pseudo codes TAX/NON; elsewhere a line carries a real TaxCode."""
	return (_p(s).get("country") or "US") == "US"


def sends_doc_number(s: RealmSettings) -> bool:
	"""With custom transaction numbers off, QBO numbers its documents itself (DocNumber is not sent)."""
	return not known(s) or _p(s).get("custom_txn_numbers", False)


def describe(s: RealmSettings) -> list[str]:
	"""Plain sentences for the realm form: what QBO's set-up means for the sync."""
	if not known(s):
		return ["QuickBooks' preferences have not been read yet. Choose \u201cRead QuickBooks settings\u201d."]
	p = _p(s)
	out = []
	if p.get("automated_sales_tax"):
		out.append("Automated sales tax is on: QuickBooks computes the tax from each invoice's ship-to address. "
			"Each line is sent as taxable or non-taxable; when QuickBooks' tax differs from ERPNext's, a review "
			"item shows both amounts.")
	elif p.get("sales_tax"):
		out.append("Sales tax is on: ERPNext's tax total is sent with the mapped tax code.")
	else:
		out.append("Sales tax is off in QuickBooks: no tax is sent.")
	if p.get("class_per_line"):
		out.append("Classes are tracked per line: each line takes its cost center's class.")
	elif p.get("class_per_txn"):
		out.append("Classes are tracked per transaction: the invoice's cost center gives its class.")
	else:
		out.append("Class tracking is off: no class is sent.")
	out.append("Locations are tracked." if p.get("track_departments") else "Location tracking is off: no location is sent.")
	out.append("Custom transaction numbers are on: the ERPNext invoice number is sent (21 characters at most)."
		if p.get("custom_txn_numbers") else
		"Custom transaction numbers are off: QuickBooks numbers invoices itself; its number is kept on the "
		"ERPNext invoice.")
	if p.get("multicurrency"):
		out.append("Multicurrency is on.")
	return out
