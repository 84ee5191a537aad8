"""Invoice and CreditMemo: lines, subtotal, tax, totals, balances, currency (qbo-api.md §1, §9).

The server computes: the SubTotalLineDetail line, TotalAmt, Balance (Invoice) / RemainingCredit (CreditMemo),
DueDate, TxnTaxDetail, DocNumber, LinkedTxn, ExchangeRate and Home* amounts, as the create/void fixtures show
(fx:minimul-qbo_api/create/invoice.yml, void/invoice.yml).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from .. import ast
from .. import faults as F
from ..model import Realm, Record
from ..util import money, pacific_date, to_decimal
from .base import EntitySpec, currency_ref

ZERO = Decimal("0")
# Known Invoice properties: the list QBO printed in fx:minimul-qbo_api/error/400_json.yml (truncated there)
# plus the ones it cut off that we model. Anything else → 2010 "Request has invalid or unsupported property".
KNOWN_PROPERTIES = frozenset(
	"""
DocNumber HomeTotalAmt TotalAmt TxnSource AllowOnlinePayment RecurringInfo EmailStatus callToAction
AutoDocNumber ECloudStatusTimeStamp TaxFormNum TxnDate FOB ClassRef AllowOnlineACHPayment
DepositToAccountRef InvoiceEx AllowOnlineCreditCardPayment CurrencyRef InvoiceLink PONumber ShipDate
PaymentMethodRef TrackingNum TxnTaxDetail CustomerRef ShipFromAddr BillAddr EInvoiceStatus Id
RecurDataRef ApplyTaxAfterDiscount DepartmentRef SalesRepRef ExchangeRate domain invoiceStatusLog
TaxFormType BillEmailBcc LessCIS CustomerMemo TxnStatus HomeBalance PrintStatus ConvenienceFeeDetail
DiscountRate DeliveryInfo FreeFormAddress AllowIPNPayment CustomField PaymentDetailsMessage
TransactionLocationType MetaData LinkedTxn status RemitToRef PrivateNote ShipMethodRef PaymentRefNum
Tag TxnApprovalInfo Line SalesTermRef DueDate Balance ShipAddr BillEmail BillEmailCc SyncToken
sparse Deposit GlobalTaxCalculation ProjectRef RemainingCredit HomeAmt AttachableRef TxnSourceRef
ARAccountRef
""".split()
)
LINE_TYPES = ("SalesItemLineDetail", "DescriptionOnly", "DiscountLineDetail", "SubTotalLineDetail")


def parse_txn_date(value, element: str = "TxnDate") -> date:
	try:
		return date.fromisoformat(str(value)[:10])
	except ValueError:
		raise F.business(f"Invalid date {value!r}", element) from None


def applications(realm: Realm, entity: str, txn_id: str, exclude_payment: str | None = None) -> list:
	"""(payment id, amount) for every live, non-voided Payment line linking this Invoice/CreditMemo."""
	out = []
	for pay in sorted(realm.live("Payment"), key=lambda r: int(r.id)):
		if pay.id == exclude_payment or pay.extra.get("voided"):
			continue
		for line in pay.data.get("Line", []):
			for link in line.get("LinkedTxn", []):
				if link.get("TxnType") == entity and str(link.get("TxnId")) == txn_id:
					out.append((pay.id, money(to_decimal(line.get("Amount"), ZERO))))
	return out


def refresh_balance(realm: Realm, rec: Record) -> bool:
	"""Recompute Balance/LinkedTxn from the payments; return True when anything changed."""
	data = rec.data
	before = (data.get("Balance"), data.get("RemainingCredit"), list(data.get("LinkedTxn", [])))
	apps = applications(realm, rec.entity, rec.id)
	total = money(to_decimal(data.get("TotalAmt"), ZERO))
	applied = sum((amt for _, amt in apps), ZERO)
	balance = money(total - applied) if not rec.extra.get("voided") else money(ZERO)
	data["Balance"] = balance
	if rec.entity == "CreditMemo":
		data["RemainingCredit"] = balance
	others = [lt for lt in data.get("LinkedTxn", []) if lt.get("TxnType") != "Payment"]
	seen = []
	for pid, amt in apps:
		if pid not in seen and amt != 0:
			seen.append(pid)
	data["LinkedTxn"] = others + [{"TxnId": pid, "TxnType": "Payment"} for pid in seen]
	rate = to_decimal(data.get("ExchangeRate"), Decimal("1"))
	data["HomeBalance"] = money(balance * rate)
	after = (data.get("Balance"), data.get("RemainingCredit"), data["LinkedTxn"])
	return before != after


def txn_currency(
	realm: Realm, data: dict, body: dict, old: Record | None, customer: Record
) -> tuple[str, Decimal]:
	"""§9 Multicurrency: the txn currency is the customer's; ExchangeRate = home units per foreign unit."""
	cust_cur = customer.data.get("CurrencyRef", {}).get("value") or realm.home_currency
	cur = (data.get("CurrencyRef") or {}).get("value") or cust_cur
	if cur != cust_cur:
		raise F.business(
			f"The currency of the transaction ({cur}) must match the customer's currency ({cust_cur}).",
			"CurrencyRef",
		)
	if cur == realm.home_currency:
		return cur, Decimal("1")
	if "ExchangeRate" in body and body["ExchangeRate"] is not None:
		rate = to_decimal(body["ExchangeRate"])
		if rate is None or rate <= 0:
			raise F.business("ExchangeRate must be a positive number.", "ExchangeRate")
		return cur, rate
	txn_date = parse_txn_date(data["TxnDate"])
	if (
		old is not None
		and old.data.get("CurrencyRef", {}).get("value") == cur
		and "TxnDate" not in body
		and old.data.get("ExchangeRate") is not None
	):
		return cur, to_decimal(old.data["ExchangeRate"])
	from ..rates import rate_for

	return cur, rate_for(realm, cur, txn_date)


class SalesTxnSpec(EntitySpec):
	deletable = True
	keep_on_full_update = ("DocNumber",)

	def defaults(self, realm):
		return {"ApplyTaxAfterDiscount": False, "PrintStatus": "NeedToPrint", "EmailStatus": "NotSet"}

	def prepare(self, realm, data, body, old, now):
		for key in body:
			if key not in KNOWN_PROPERTIES:
				raise F.validation(
					"2010",
					"Request has invalid or unsupported property",
					f'Property Name:Unrecognized field "{key}" '
					f"(class com.intuit.schema.finance.v3.{self.name}), "
					"not marked as ignorable\n specified is unsupported or invalid",
					None,
				)
		customer_ref = data.get("CustomerRef")
		if not isinstance(customer_ref, dict) or not customer_ref.get("value"):
			raise F.required("CustomerRef")
		customer = realm.get("Customer", str(customer_ref["value"]))
		if customer is None:
			raise F.not_found()
		if not data.get("Line"):
			raise F.required("Line")
		if not data.get("TxnDate"):
			data["TxnDate"] = pacific_date(now).isoformat()
		data["TxnDate"] = parse_txn_date(data["TxnDate"]).isoformat()
		self.apply_defaults(realm, data)
		for addr in ("BillAddr", "ShipAddr"):  # QBO copies the customer's addresses (create/invoice.yml)
			if addr not in data and isinstance(customer.data.get(addr), dict):
				data[addr] = dict(customer.data[addr])
		cur, rate = txn_currency(realm, data, body, old, customer)
		data["CurrencyRef"] = currency_ref(cur)
		data["ExchangeRate"] = rate
		if not data.get("DocNumber"):
			if old is not None and old.data.get("DocNumber"):
				data["DocNumber"] = old.data["DocNumber"]
			elif not realm.pref("SalesFormsPrefs", "CustomTxnNumbers", default=False):
				data["DocNumber"] = realm.next_doc_number(self.name)
		voided = bool(old.extra.get("voided")) if old else False
		lines, subtotal, taxable = self.build_lines(realm, data["Line"], old, voided)
		extras = {"voided": voided}
		tax_override = self.tax_override(body, old)
		extras["tax_override"] = tax_override
		if ast.enabled(realm):
			txd = self.ast_tax_detail(realm, data, body, old, taxable, customer, now)
			extras["tax_override"] = bool(txd.pop("_override", False))
		else:
			txd = self.tax_detail(realm, data, body, old, taxable, tax_override)
		discount = sum(
			(
				to_decimal(ln.get("Amount"), ZERO)
				for ln in lines
				if ln.get("DetailType") == "DiscountLineDetail"
			),
			ZERO,
		)
		total = money(subtotal - discount + txd["TotalTax"]) if not voided else money(ZERO)
		if voided:
			txd = {"TotalTax": money(ZERO)}
		data["Line"] = lines
		data["TxnTaxDetail"] = txd
		data["TotalAmt"] = total
		data["HomeTotalAmt"] = money(total * rate)
		data.setdefault("LinkedTxn", [])
		if old is not None:
			applied = sum((amt for _, amt in applications(realm, self.name, old.id)), ZERO)
			if applied > total:
				raise F.business(
					f"The new total ({total}) is less than the payments already applied ({applied}). "
					"Unlink payments "
					"first.",
					"TotalAmt",
				)
		if self.name == "Invoice":
			self.due_date(realm, data, customer)
		return extras

	# ---- lines -----------------------------------------------------------------------------------------
	def build_lines(self, realm, raw_lines, old, voided):
		if not isinstance(raw_lines, list):
			raise F.required("Line")
		used_ids = {str(ln.get("Id")) for ln in raw_lines if isinstance(ln, dict) and ln.get("Id")}
		next_id = 1
		items, discounts = [], []
		subtotal = ZERO
		taxable = ZERO
		for raw in raw_lines:
			if not isinstance(raw, dict):
				raise F.required("Line")
			ln = dict(raw)
			detail_type = ln.get("DetailType")
			if not detail_type:
				raise F.required("Line.DetailType")
			if detail_type not in LINE_TYPES:
				raise F.business(f"Unsupported line DetailType {detail_type}", "Line.DetailType")
			if detail_type == "SubTotalLineDetail":
				continue  # server-added, always recomputed
			if detail_type == "DiscountLineDetail":
				discounts.append(ln)
				continue
			if detail_type == "SalesItemLineDetail":
				det = dict(ln.get("SalesItemLineDetail") or {})
				if not isinstance(det.get("ItemRef"), dict) or not det["ItemRef"].get("value"):
					raise F.required("Line.SalesItemLineDetail.ItemRef")
				item = realm.get("Item", str(det["ItemRef"]["value"]))
				if "Description" not in ln and item is not None and item.data.get("Description"):
					ln["Description"] = item.data["Description"]  # QBO copies the item's sales description
				qty = to_decimal(det.get("Qty"))
				price = to_decimal(det.get("UnitPrice"))
				amount = to_decimal(ln.get("Amount"))
				if amount is None:
					if qty is None or price is None:
						raise F.required("Line.Amount")
					amount = money(qty * price)
				# §9 Invoice: a line giving only Amount (Qty/UnitPrice 0 or absent) is accepted with that
				# Amount; only a real Qty and UnitPrice whose product differs is refused, with 6070.
				if qty and price and not voided and money(amount) != money(qty * price):
					raise F.amount_mismatch(amount)
				amount = money(amount) if not voided else money(ZERO)
				tax_ref = det.get("TaxCodeRef") or {"value": "NON"}
				det["TaxCodeRef"] = {"value": str(tax_ref.get("value", "NON"))}
				if ast.enabled(realm):
					ast.check_line_code(det["TaxCodeRef"]["value"])
				ln["SalesItemLineDetail"] = det
				ln["Amount"] = amount
				subtotal += amount
				if det["TaxCodeRef"]["value"] != "NON":
					taxable += amount
			elif detail_type == "DescriptionOnly":
				ln["Amount"] = money(to_decimal(ln.get("Amount"), ZERO)) if not voided else money(ZERO)
				ln.setdefault("DescriptionLineDetail", {})
			if not ln.get("Id"):
				while str(next_id) in used_ids:
					next_id += 1
				ln["Id"] = str(next_id)
				used_ids.add(ln["Id"])
			else:
				ln["Id"] = str(ln["Id"])
			items.append(ln)
		if not items:
			raise F.required("Line")
		for n, ln in enumerate(items, start=1):
			ln["LineNum"] = n
		out = list(items)
		out.append({"Amount": money(subtotal), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
		for ln in discounts:
			det = dict(ln.get("DiscountLineDetail") or {})
			if det.get("PercentBased") and det.get("DiscountPercent") is not None:
				amt = money(subtotal * to_decimal(det["DiscountPercent"], ZERO) / 100)
			else:
				amt = money(to_decimal(ln.get("Amount"), ZERO))
			if voided:
				amt = money(ZERO)
			ln["Amount"] = amt
			ln["DiscountLineDetail"] = det
			out.append(ln)
		return out, money(subtotal), money(taxable)

	# ---- tax -------------------------------------------------------------------------------------------
	@staticmethod
	def tax_override(body, old) -> bool:
		"""§9 AST: only TxnTaxDetail.TotalTax sticks as an override. Omitted in a sparse update → keep."""
		txd = body.get("TxnTaxDetail")
		if isinstance(txd, dict):
			return txd.get("TotalTax") is not None
		if old is not None and body.get("sparse") is True:
			return bool(old.extra.get("tax_override"))
		return False

	def tax_detail(self, realm, data, body, old, taxable, override) -> dict:
		txd_in = data.get("TxnTaxDetail") if isinstance(data.get("TxnTaxDetail"), dict) else {}
		code_ref = txd_in.get("TxnTaxCodeRef")
		rates = []
		if isinstance(code_ref, dict) and code_ref.get("value"):
			code = realm.get("TaxCode", str(code_ref["value"]))
			if code is None:
				raise F.not_found()
			for det in code.data.get("SalesTaxRateList", {}).get("TaxRateDetail", []):
				rate_rec = realm.get("TaxRate", str(det.get("TaxRateRef", {}).get("value")))
				if rate_rec is not None:
					rates.append((rate_rec.id, to_decimal(rate_rec.data.get("RateValue"), ZERO)))
		computed = [money(taxable * pct / 100) for _, pct in rates]
		if override:
			total = money(to_decimal(txd_in.get("TotalTax"), ZERO))
			weights = sum((pct for _, pct in rates), ZERO)
			amounts = []
			remaining = total
			for i, (_, pct) in enumerate(rates):
				if i == len(rates) - 1:
					amounts.append(remaining)
				else:
					share = money(total * pct / weights) if weights else money(ZERO)
					amounts.append(share)
					remaining -= share
		else:
			amounts = computed
			total = money(sum(amounts, ZERO))
		out: dict = {}
		if rates:
			out["TxnTaxCodeRef"] = {"value": str(code_ref["value"])}
		out["TotalTax"] = total
		if rates:
			out["TaxLine"] = [
				{
					"Amount": amt,
					"DetailType": "TaxLineDetail",
					"TaxLineDetail": {
						"TaxRateRef": {"value": rid},
						"PercentBased": True,
						"TaxPercent": pct,
						"NetAmountTaxable": taxable,
					},
				}
				for (rid, pct), amt in zip(rates, amounts, strict=True)
			]
		return out

	def ast_tax_detail(self, realm, data, body, old, taxable, customer, now) -> dict:
		"""§9 AST: the tax of the ship-to jurisdiction on the TAX lines; client codes are ignored; only
		TxnTaxCodeRef + TotalTax together override the amount (prorated over the AST code's rates). An exempt
		customer (Taxable=false) gets none (assumed, see ast.py)."""
		state, zip3 = ast.jurisdiction(realm, data)
		code_id = ast.code_for(realm, state, zip3, now)
		if code_id is None:
			return {"TotalTax": money(ZERO)}
		code = realm.get("TaxCode", code_id)
		rates = []
		for det in code.data["SalesTaxRateList"]["TaxRateDetail"]:
			rate_rec = realm.get("TaxRate", det["TaxRateRef"]["value"])
			rates.append((rate_rec.id, to_decimal(rate_rec.data.get("RateValue"), ZERO)))
		if customer.data.get("Taxable") is False:
			taxable = money(ZERO)
		txd_in = body.get("TxnTaxDetail") if isinstance(body.get("TxnTaxDetail"), dict) else None
		override = bool(txd_in and txd_in.get("TxnTaxCodeRef") and txd_in.get("TotalTax") is not None)
		if txd_in is None and old is not None and body.get("sparse") is True:
			override = bool(old.extra.get("tax_override"))
			txd_in = old.data.get("TxnTaxDetail") if override else None
		if override:
			total = money(to_decimal(txd_in.get("TotalTax"), ZERO))
			weights = sum((pct for _, pct in rates), ZERO)
			amounts, remaining = [], total
			for i, (_, pct) in enumerate(rates):
				share = remaining if i == len(rates) - 1 else (money(total * pct / weights) if weights else money(ZERO))
				amounts.append(share)
				remaining -= share
		else:
			# each rate on the taxable amount, then the total; the last rate takes the rounding so that the
			# total is the combined rate on the taxable amount, half-up (assumed; Intuit does not document it)
			total = money(taxable * sum((pct for _, pct in rates), ZERO) / 100)
			amounts, remaining = [], total
			for i, (_, pct) in enumerate(rates):
				share = remaining if i == len(rates) - 1 else money(taxable * pct / 100)
				amounts.append(share)
				remaining -= share
		return {
			"TxnTaxCodeRef": {"value": code_id},
			"TotalTax": total,
			"TaxLine": [
				{"Amount": amt, "DetailType": "TaxLineDetail", "TaxLineDetail": {"TaxRateRef": {"value": rid},
					"PercentBased": True, "TaxPercent": pct, "NetAmountTaxable": taxable}}
				for (rid, pct), amt in zip(rates, amounts, strict=True)
			],
			"_override": override,
		}

	def due_date(self, realm, data, customer) -> None:
		"""DueDate from SalesTermRef, else the customer's term, else Preferences DefaultTerms, else TxnDate"""
		if not data.get("SalesTermRef") and (customer.data.get("SalesTermRef") or {}).get("value"):
			term_id = str(customer.data["SalesTermRef"]["value"])  # the customer's terms
			term = realm.get("Term", term_id)
			data["SalesTermRef"] = (
				{"value": term_id, "name": term.data["Name"]} if term else {"value": term_id}
			)
		if data.get("DueDate"):
			data["DueDate"] = parse_txn_date(data["DueDate"], "DueDate").isoformat()
			return
		term_id = (
			(data.get("SalesTermRef") or {}).get("value")
			or (customer.data.get("SalesTermRef") or {}).get("value")
			or realm.pref("SalesFormsPrefs", "DefaultTerms", "value")
		)
		days = 0
		term = realm.get("Term", str(term_id)) if term_id else None
		if term is not None:
			days = int(term.data.get("DueDays") or 0)
		data["DueDate"] = (parse_txn_date(data["TxnDate"]) + timedelta(days=days)).isoformat()

	# ---- hooks -----------------------------------------------------------------------------------------
	def after_write(self, realm, record, old_data, ctx):
		refresh_balance(realm, record)

	def before_delete(self, realm, record):
		"""QBO requires unlinking payments first (§1, 'You must unlink linked transactions')."""
		if applications(realm, self.name, record.id):
			raise F.business(
				f"This transaction is linked to other transactions (payments). "
				f"Unlink them before deleting this "
				f"{self.name}.",
				"LinkedTxn",
			)


class InvoiceSpec(SalesTxnSpec):
	name = "Invoice"
	void_style = "void"

	def defaults(self, realm):
		d = super().defaults(realm)
		d.update(
			{
				"AllowIPNPayment": False,
				"AllowOnlinePayment": False,
				"AllowOnlineCreditCardPayment": False,
				"AllowOnlineACHPayment": False,
			}
		)
		return d

	def void(self, realm, record, ctx):
		"""fx:minimul-qbo_api/void/invoice.yml: amounts 0, PrivateNote 'Voided', SyncToken+1."""
		if applications(realm, self.name, record.id):
			raise F.business(
				"This invoice has payments applied. Unlink the payments before voiding it.", "LinkedTxn"
			)
		data = record.data
		record.extra["voided"] = True
		for ln in data.get("Line", []):
			ln["Amount"] = money(ZERO)
			if ln.get("DetailType") == "SalesItemLineDetail":
				ln["SalesItemLineDetail"].pop("Qty", None)
				ln["SalesItemLineDetail"].pop("UnitPrice", None)
		data["TxnTaxDetail"] = {"TotalTax": money(ZERO)}
		data["TotalAmt"] = money(ZERO)
		data["HomeTotalAmt"] = money(ZERO)
		data["PrivateNote"] = "Voided"
		refresh_balance(realm, record)


class CreditMemoSpec(SalesTxnSpec):
	"""Same line model as Invoice plus RemainingCredit/Balance (§9 CreditMemo)."""

	name = "CreditMemo"
