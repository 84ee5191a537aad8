"""US Automated Sales Tax (AST) as the sandbox models it (qbo-api.md §9 "US Automated Sales Tax (AST)").

Sourced behaviour (§9, §11 item 9): AST is on when `Preferences.TaxPrefs.PartnerTaxEnabled`; the engine computes
the tax from the ship-to address (or the company address) and IGNORES the TxnTaxCodeRef/TaxRateRef a client
sends; the only client control is an override, `TxnTaxDetail.TxnTaxCodeRef` plus `TotalTax` together, whose
amount AST honours and prorates over the rates of the AST-assigned code; lines still say `TAX`/`NON`.

Assumed (no capture exists; real sandbox companies do not support AST, §9) and said in the README:
- the rates: a small table by state and ZIP prefix (below), rather than Intuit's rate service;
- a line TaxCodeRef other than TAX/NON is refused (6000) in an AST company (US lines only know TAX/NON);
- a customer with Taxable=false gets no tax (an exempt customer), and in an AST company Taxable=false needs a
  TaxExemptionReasonId (refused with 6000 otherwise);
- the AST-assigned code is one TaxCode per jurisdiction ("TX 787 (AST)"), created on first use with its rates.
"""
from __future__ import annotations

from decimal import Decimal

from . import faults as F
from .model import Realm

# (state, ZIP prefix or "") -> [(rate name, percent)]; the most specific entry wins
RATES: dict[tuple[str, str], list[tuple[str, Decimal]]] = {
	("TX", "787"): [("Texas State", Decimal("6.25")), ("Austin City", Decimal("1.00")), ("Austin MTA", Decimal("1.00"))],
	("TX", "752"): [("Texas State", Decimal("6.25")), ("Dallas City", Decimal("1.00")), ("Dallas MTA", Decimal("1.00"))],
	("TX", "753"): [("Texas State", Decimal("6.25")), ("Dallas City", Decimal("1.00")), ("Dallas MTA", Decimal("1.00"))],
	("TX", "770"): [("Texas State", Decimal("6.25")), ("Houston City", Decimal("1.00")), ("Houston MTA", Decimal("1.00"))],
	("TX", ""): [("Texas State", Decimal("6.25"))],
	("OK", "741"): [("Oklahoma State", Decimal("4.50")), ("Tulsa City", Decimal("3.65")), ("Tulsa County", Decimal("0.367"))],
	("OK", ""): [("Oklahoma State", Decimal("4.50"))],
}
EXEMPTION_REASONS = {str(n) for n in range(1, 16)}  # QBO's TaxExemptionReasonId values are small integers


def enabled(realm: Realm) -> bool:
	return bool(realm.pref("TaxPrefs", "PartnerTaxEnabled", default=False))


def jurisdiction(realm: Realm, data: dict) -> tuple[str, str]:
	"""State and ZIP prefix of the ship-to address, else the bill-to, else the company's address."""
	for key in ("ShipAddr", "BillAddr"):
		addr = data.get(key)
		if isinstance(addr, dict) and addr.get("CountrySubDivisionCode"):
			return str(addr["CountrySubDivisionCode"]).upper(), str(addr.get("PostalCode") or "")[:3]
	info = realm.get("CompanyInfo", "1")
	addr = (info.data.get("CompanyAddr") if info else None) or {}
	return str(addr.get("CountrySubDivisionCode") or "TX").upper(), str(addr.get("PostalCode") or "")[:3]


def rates_for(state: str, zip3: str) -> list[tuple[str, Decimal]]:
	return RATES.get((state, zip3)) or RATES.get((state, "")) or []


def code_for(realm: Realm, state: str, zip3: str, now) -> str | None:
	"""The AST-assigned TaxCode Id for a jurisdiction (created with its TaxRates on first use)."""
	from . import service

	rates = rates_for(state, zip3)
	if not rates:
		return None
	name = f"{state} {zip3 or 'state'} (AST)"
	for rec in realm.live("TaxCode"):
		if rec.data.get("Name") == name:
			return rec.id
	details = []
	for order, (rate_name, pct) in enumerate(rates):
		existing = next((r for r in realm.live("TaxRate") if r.data.get("Name") == rate_name), None)
		if existing is None:
			existing = service.insert(realm, "TaxRate", {"Name": rate_name, "RateValue": pct, "Active": True,
				"AgencyRef": {"value": "1"}, "SpecialTaxType": "NONE", "DisplayType": "ReadOnly"}, now)
		details.append({"TaxRateRef": {"value": existing.id, "name": rate_name}, "TaxTypeApplicable": "TaxOnAmount",
			"TaxOrder": order})
	rec = service.insert(realm, "TaxCode", {"Name": name, "Description": name, "Active": True, "Taxable": True,
		"TaxGroup": True, "SalesTaxRateList": {"TaxRateDetail": details}, "PurchaseTaxRateList": {"TaxRateDetail": []}},
		now)
	return rec.id


def check_line_code(value: str) -> None:
	if value not in ("TAX", "NON"):
		raise F.business(
			f"Invalid tax code {value} on a line: with automated sales tax a line is TAX or NON.",
			"Line.SalesItemLineDetail.TaxCodeRef",
		)


def check_customer(realm: Realm, data: dict) -> None:
	if enabled(realm) and data.get("Taxable") is False:
		reason = data.get("TaxExemptionReasonId")
		if reason in (None, "") or str(reason) not in EXEMPTION_REASONS:
			raise F.business("A tax-exempt customer needs an exemption reason (TaxExemptionReasonId).",
				"TaxExemptionReasonId")
