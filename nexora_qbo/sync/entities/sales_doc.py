"""What Invoice and CreditMemo share: the sales line model, header references, tax total, void detection."""
from __future__ import annotations

from decimal import Decimal

from nexora_qbo.sync import preferences as P
from nexora_qbo.sync import records as R
from nexora_qbo.sync.identity import check_doc_number, mapped
from nexora_qbo.sync.entities.base import (
	EntitySpec,
	Resolver,
	drop_none,
	list_from_qbo,
	list_to_qbo,
	quote,
	ref,
	ref_value,
)


class SalesDocSpec(EntitySpec):
	kind = "transaction"
	field_keys = {
		"doc_number": ("DocNumber",),
		"customer": ("CustomerRef",),
		"txn_date": ("TxnDate",),
		"due_date": ("DueDate",),
		"currency": ("CurrencyRef",),
		"exchange_rate": ("ExchangeRate",),
		"terms": ("SalesTermRef",),
		"class_": ("ClassRef",),
		"location": ("DepartmentRef",),
		"memo": ("CustomerMemo",),
		"lines": ("Line",),
		"discount_amount": ("Line",),
		"tax_total": ("TxnTaxDetail",),
	}

	def _line_to_qbo(self, line: dict, r: Resolver, header_class: str | None = None) -> dict:
		s = r.settings
		line_class = line.get("class_") or (header_class if P.known(s) else None)
		detail = drop_none(
			{
				"ItemRef": ref(r.qbo_ref("item", line["item"])) if line.get("item") else None,
				"Qty": line["qty"],
				"UnitPrice": line["rate"],
				"ClassRef": ref(mapped(s, "class_map", line_class, "class")) if P.sends_line_class(s) else None,
				"ServiceDate": line.get("service_date"),
				"TaxCodeRef": self._line_tax_code(line, r),
			}
		)
		return drop_none(
			{
				"DetailType": "SalesItemLineDetail",
				# QBO rejects Amount != Qty*UnitPrice: always half-up per line from qty and rate
				"Amount": R.line_amount(line["qty"], line["rate"]),
				"Description": line.get("description"),
				"SalesItemLineDetail": detail,
			}
		)

	@staticmethod
	def _line_tax_code(line: dict, r: Resolver) -> dict | None:
		"""Taxability per line: the US pseudo codes TAX/NON (AST and classic US tax alike), the line's mapped
		TaxCode elsewhere; nothing when sales tax is off in QBO."""
		s = r.settings
		if not P.sales_tax(s):
			return None
		if P.us_tax_model(s):
			return {"value": "TAX" if line.get("taxable") else "NON"}
		code = list_to_qbo(s.tax_code_map, line.get("tax_code"), s.tax_code_map.get("default"))
		return ref(code)

	def _header_to_qbo(self, rec: dict, r: Resolver) -> dict:
		s = r.settings
		header_class = rec.get("class_")
		body = {
			"DocNumber": check_doc_number(self.local_type, rec.get("doc_number")) if P.sends_doc_number(s) else None,
			"CustomerRef": ref(r.qbo_ref("customer", rec["customer"])),
			"TxnDate": rec.get("txn_date"),
			"CurrencyRef": ref(rec.get("currency")),
			"ExchangeRate": rec.get("exchange_rate") if rec.get("currency") and rec.get("currency") != s.home_currency else None,
			"ClassRef": ref(mapped(s, "class_map", header_class, "class")) if P.sends_header_class(s) else None,
			"DepartmentRef": ref(mapped(s, "location_map", rec.get("location"), "location")) if P.sends_location(s) else None,
			"CustomerMemo": {"value": rec["memo"]} if rec.get("memo") else None,
			"Line": [self._line_to_qbo(line, r, header_class) for line in rec["lines"]] + self._discount_to_qbo(rec, r),
		}
		if not P.sales_tax(s):
			return body
		if P.automated_sales_tax(s):
			# US automated sales tax: QBO computes the tax from the ship-to address and ignores our codes; an
			# override would hide a difference. Lines say TAX/NON; push compares QBO's tax with ERPNext's and a
			# difference is a review item naming both amounts (sync/taxes.py), never a silent override.
			return body
		# always send the total tax as an override: totals are carried, never recomputed (invariant 7). With US
		# automated sales tax only TxnTaxCodeRef + TotalTax together stick (qbo-api.md §9), so the document's
		# tax template is mapped to its QBO TaxCode (or the realm's "default" entry).
		tax: dict = {"TotalTax": rec["tax_total"]}
		code = list_to_qbo(s.tax_code_map, rec.get("tax_code"), s.tax_code_map.get("default"))
		if code:
			tax["TxnTaxCodeRef"] = {"value": code}
		body["TxnTaxDetail"] = tax
		return body

	@staticmethod
	def _discount_to_qbo(rec: dict, r: Resolver) -> list[dict]:
		"""ERPNext's additional discount (an amount on the net total) is QBO's invoice-level discount line: a
		fixed amount, not a percent, so both books carry the same cents (QBO would round a percent itself)."""
		amount = R.money(rec.get("discount_amount"))
		if not amount:
			return []
		detail: dict = {"PercentBased": False}
		account = list_to_qbo(r.settings.account_map, rec.get("discount_account"))
		if account:
			detail["DiscountAccountRef"] = {"value": account}
		return [{"DetailType": "DiscountLineDetail", "Amount": amount, "DiscountLineDetail": detail}]

	@staticmethod
	def _discount_from_qbo(obj: dict) -> Decimal:
		"""QBO's discount lines (a percent is already turned into its Amount by QBO) as one amount."""
		return R.money(sum((R.money(ln.get("Amount")) for ln in obj.get("Line") or []
			if ln.get("DetailType") == "DiscountLineDetail"), Decimal(0)))

	def _lines_from_qbo(self, obj: dict, r: Resolver) -> list[dict]:
		s = r.settings
		lines = []
		for line in obj.get("Line") or []:
			if line.get("DetailType") != "SalesItemLineDetail":
				continue  # SubTotalLineDetail is added by QBO; description-only lines carry no money
			d = line.get("SalesItemLineDetail") or {}
			item_id = ref_value(d, "ItemRef")
			qty = d.get("Qty")
			rate = d.get("UnitPrice")
			amount = R.money(line.get("Amount"))
			if qty in (None, "") and rate in (None, ""):
				qty, rate = 1, amount
			elif rate in (None, ""):
				rate = (amount / R.decimal(qty)) if R.decimal(qty) else amount
			elif qty in (None, ""):
				qty = 1
			lines.append(
				{
					"item": r.local_ref("Item", item_id) if item_id else None,
					"description": line.get("Description"),
					"qty": qty,
					"rate": rate,
					"amount": amount,
					"class_": list_from_qbo(s.class_map, ref_value(d, "ClassRef")),
					"service_date": d.get("ServiceDate"),
					"taxable": ref_value(d, "TaxCodeRef") not in (None, "NON"),
					**({"tax_code": list_from_qbo(s.tax_code_map, ref_value(d, "TaxCodeRef"))}
						if not P.us_tax_model(s) and ref_value(d, "TaxCodeRef") else {}),
				}
			)
		return lines

	def _header_from_qbo(self, obj: dict, r: Resolver) -> dict:
		s = r.settings
		customer_id = ref_value(obj, "CustomerRef")
		return {
			"doc_number": obj.get("DocNumber"),
			"customer": r.local_ref("Customer", customer_id) if customer_id else None,
			"txn_date": obj.get("TxnDate"),
			"currency": ref_value(obj, "CurrencyRef") or s.home_currency,
			"exchange_rate": obj.get("ExchangeRate") or 1,
			"class_": list_from_qbo(s.class_map, ref_value(obj, "ClassRef")),
			"location": list_from_qbo(s.location_map, ref_value(obj, "DepartmentRef")),
			"memo": (obj.get("CustomerMemo") or {}).get("value"),
			"lines": self._lines_from_qbo(obj, r),
			"tax_total": (obj.get("TxnTaxDetail") or {}).get("TotalTax") or Decimal(0),
			"discount_amount": self._discount_from_qbo(obj),
			"total": obj.get("TotalAmt"),
			"outstanding": obj.get("Balance"),
			"state": "cancelled" if self.is_voided(obj) else "submitted",
		}

	def is_voided(self, obj: dict) -> bool:
		"""QBO keeps a voided transaction with amounts 0 and PrivateNote "Voided" (CDC shows it as an update)."""
		note = str(obj.get("PrivateNote") or "")
		return "voided" in note.lower() and R.money(obj.get("TotalAmt")) == 0

	def lookup_queries(self, record: dict) -> list[str]:
		rec = R.normalize(self.local_type, record)
		if not rec.get("doc_number"):
			return []
		return [f"select * from {self.qbo_entity} where DocNumber = {quote(rec['doc_number'])}"]
