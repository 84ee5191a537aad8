"""FrappeLedger: the sync engine's Ledger port (nexora_qbo.sync.ports.Ledger) on ERPNext documents.

	customer     -> Customer                     mappers/customer.py
	item         -> Item                         mappers/item.py
	invoice      -> Sales Invoice, is_return=0   mappers/sales_invoice.py
	credit_memo  -> Sales Invoice, is_return=1   mappers/sales_invoice.py
	payment      -> Payment Entry, Receive       mappers/payment_entry.py
	deposit      -> Journal Entry (Bank Entry)   mappers/deposit.py
	refund       -> Payment Entry, Pay (Customer) against return invoices     mappers/refund.py
	refund_receipt -> Sales Invoice, is_return=1, paid out by a Pay entry    mappers/refund.py

Keyed by company; the company's realm (QBO Realm row) supplies the ERPNext defaults (receivable, income,
tax and payment accounts, cost center, groups, price list) and the reference maps (accounts, terms,
classes -> cost centers, locations -> branches, modes of payment).

Writes that come from QBO (`upsert_from_qbo`, `cancel_from_qbo`) set `doc.flags.nexora_qbo_origin = "qbo"`
on every document they save and `frappe.flags.nexora_qbo_inbound` around the write, so the doc_events
(nexora_qbo.erpnext.events) record no outbox intent: nothing echoes back to QBO. Each write runs in a
savepoint; a refusal leaves nothing behind and raises a LedgerError whose message a bookkeeper can act on
(the engine parks it as a review item).

Master data ERPNext cannot represent (QBO's CompanyName of an individual, Service vs NonInventory,
SKU, taxable flag, unmapped terms/accounts) is read back from the mapping's last-synced QBO record
(`carry_from_base`), so it never looks like a local edit and is never overwritten in QBO.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from nexora_qbo.erpnext.mappers import CompanyContext, LedgerError, company_context
from nexora_qbo.erpnext.mappers import customer as customer_mapper
from nexora_qbo.erpnext.mappers import deposit as deposit_mapper
from nexora_qbo.erpnext.mappers import item as item_mapper
from nexora_qbo.erpnext.mappers import payment_entry as payment_mapper
from nexora_qbo.erpnext.mappers import refund as refund_mapper
from nexora_qbo.erpnext.mappers import sales_invoice as invoice_mapper
from nexora_qbo.sync import constants as C


def _check_type(local_type: str) -> None:
	if local_type not in C.LOCAL_TYPES:
		raise LedgerError(f"unknown document type {local_type!r}")


class FrappeLedger:
	"""The Ledger port on ERPNext. `store` (a FrappeStore) is used only to read mapping snapshots."""

	def __init__(self, store=None):
		self._store = store

	@property
	def store(self):
		if self._store is None:
			from nexora_qbo.erpnext.store import FrappeStore

			self._store = FrappeStore()
		return self._store

	# ------------------------------------------------------------------------------------------ read
	def get(self, company: str, local_type: str, local_id: str) -> dict | None:
		_check_type(local_type)
		if not local_id:
			return None
		ctx = company_context(company)
		if local_type == C.REFUND:
			return refund_mapper.to_record(ctx, local_id)
		if local_type == C.REFUND_RECEIPT:
			return refund_mapper.receipt_to_record(ctx, local_id)
		if local_type == C.CUSTOMER:
			record = customer_mapper.to_record(ctx, local_id)
			return (
				None
				if record is None
				else customer_mapper.carry_from_base(ctx, record, self._base(ctx, local_type, local_id))
			)
		if local_type == C.ITEM:
			record = item_mapper.to_record(ctx, local_id)
			return (
				None
				if record is None
				else item_mapper.carry_from_base(ctx, record, self._base(ctx, local_type, local_id))
			)
		if local_type in (C.INVOICE, C.CREDIT_MEMO):
			return invoice_mapper.to_record(ctx, local_type, local_id)
		if local_type == C.DEPOSIT:
			return deposit_mapper.to_record(ctx, local_id)
		return payment_mapper.to_record(ctx, local_id)

	def _base(self, ctx: CompanyContext, local_type: str, local_id: str) -> dict | None:
		"""The canonical form of the mapping's last-synced QBO record (masters only need settings)."""
		if not ctx.realm_id or ctx.settings is None:
			return None
		m = self.store.get_mapping(ctx.realm_id, local_type, local_id)
		if m is None or not m.base:
			return None
		from nexora_qbo.sync.entities import ENTITIES

		resolver = SimpleNamespace(settings=ctx.settings, qbo_ref=_no_ref, local_ref=_no_ref)
		try:
			return ENTITIES[local_type].from_qbo(m.base, resolver)
		except Exception:
			return None

	def list_ids(self, company: str, local_type: str, since: date | None = None) -> list[str]:
		_check_type(local_type)
		ctx = company_context(company)
		if local_type == C.REFUND:
			return refund_mapper.list_ids(ctx, since, exclude=refund_mapper.receipt_ids(ctx))
		if local_type == C.REFUND_RECEIPT:
			return sorted(refund_mapper.receipt_ids(ctx))  # born in QBO only
		if local_type in (C.CUSTOMER, C.ITEM):
			from nexora_qbo.erpnext.mappers import masters

			# masters are global: only those the company's documents use go to its realm (invariant 4)
			used = masters.used_by_company(company, local_type)
			mapper = customer_mapper if local_type == C.CUSTOMER else item_mapper
			return [name for name in mapper.list_ids(ctx) if name in used]
		if local_type == C.CREDIT_MEMO:  # a refund receipt's return invoice is not a credit memo of QBO's
			receipts = refund_mapper.receipt_ids(ctx)
			return [n for n in invoice_mapper.list_ids(ctx, local_type, since) if n not in receipts]
		if local_type == C.INVOICE:
			return invoice_mapper.list_ids(ctx, local_type, since)
		if local_type == C.DEPOSIT:
			return deposit_mapper.list_ids(ctx, since)
		return payment_mapper.list_ids(ctx, since)

	def used_by(self, local_type: str, local_id: str) -> set[str]:
		"""Companies whose Sales Invoices / Payment Entries (submitted or cancelled) use the master."""
		_check_type(local_type)
		from nexora_qbo.erpnext.mappers import masters

		return masters.used_by(local_type, local_id)

	def find_match(self, company: str, local_type: str, record: dict) -> str | None:
		_check_type(local_type)
		if local_type in (C.REFUND, C.REFUND_RECEIPT):
			return None  # always imported once (mapped); a refund receipt is never typed in both books
		ctx = company_context(company)
		if local_type == C.CUSTOMER:
			return customer_mapper.find_match(ctx, record)
		if local_type == C.ITEM:
			return item_mapper.find_match(ctx, record)
		if local_type in (C.INVOICE, C.CREDIT_MEMO):
			return invoice_mapper.find_match(ctx, local_type, record)
		if local_type == C.DEPOSIT:
			return None  # a deposit has no stable key: it is linked only by its mapping
		return payment_mapper.find_match(ctx, record)

	# ------------------------------------------------------------------------------------------ write
	def upsert_from_qbo(self, company: str, local_type: str, local_id: str | None, record: dict) -> str:
		_check_type(local_type)
		ctx = company_context(company)
		if local_type == C.REFUND:
			return refund_mapper.upsert(ctx, local_id, record)
		if local_type == C.REFUND_RECEIPT:
			return refund_mapper.upsert_receipt(ctx, local_id, record)
		if local_type == C.CUSTOMER:
			return customer_mapper.upsert(ctx, local_id, record)
		if local_type == C.ITEM:
			return item_mapper.upsert(ctx, local_id, record)
		if local_type in (C.INVOICE, C.CREDIT_MEMO):
			return invoice_mapper.upsert(ctx, local_type, local_id, record)
		if local_type == C.DEPOSIT:
			return deposit_mapper.upsert(ctx, local_id, record)
		return payment_mapper.upsert(ctx, local_id, record)

	def note_qbo_number(self, company: str, local_type: str, local_id: str, doc_number: str) -> None:
		"""Issue 11 (sync/numbering.py): QBO numbered a pushed invoice itself; keep its number."""
		if local_type in (C.INVOICE, C.CREDIT_MEMO):
			invoice_mapper.note_qbo_number(company_context(company), local_type, local_id, doc_number)

	def cancel_from_qbo(self, company: str, local_type: str, local_id: str, reason: str) -> None:
		_check_type(local_type)
		ctx = company_context(company)
		if local_type == C.REFUND:
			return refund_mapper.cancel(ctx, local_id, reason)
		if local_type == C.REFUND_RECEIPT:
			return refund_mapper.cancel_receipt(ctx, local_id, reason)
		if local_type == C.CUSTOMER:
			return customer_mapper.disable(ctx, local_id, reason)
		if local_type == C.ITEM:
			return item_mapper.disable(ctx, local_id, reason)
		if local_type in (C.INVOICE, C.CREDIT_MEMO):
			return invoice_mapper.cancel(ctx, local_type, local_id, reason)
		if local_type == C.DEPOSIT:
			return deposit_mapper.cancel(ctx, local_id, reason)
		return payment_mapper.cancel(ctx, local_id, reason)

	def merge_customer(self, source: str, target: str) -> None:
		"""A customer merge that came from QBO (sync/customer_merge.py): ERPNext's rename-with-merge."""
		customer_mapper.merge(source, target)

	def account_balances(self, company: str, accounts, as_of: date | None = None, *, default_account=None) -> dict:
		"""Issue 13 (optional Ledger read): each account's balance from ERPNext's general ledger, so the cash in
		Undeposited Funds and in the bank can be compared with QBO's. `default_account` is not needed here: a
		Payment Entry always names the account it received into."""
		return deposit_mapper.account_balances(company, accounts, as_of)

	# ------------------------------------------------------------------------------ Currency Exchange
	# the realm's rate source (sync/exchange_rates.py): ERPNext's Currency Exchange rows for selling into the
	# company's currency (global in ERPNext: no company field), read and written here
	def _company_currency(self, company: str) -> str:
		import frappe

		return frappe.get_cached_value("Company", company, "default_currency")

	def foreign_currencies(self, company: str) -> list[str]:
		"""Currencies other than the company's of its receivable accounts and of the customers it billed."""
		import frappe

		home = self._company_currency(company)
		out = set(frappe.get_all("Account", filters={"company": company, "account_type": "Receivable",
			"account_currency": ("!=", home)}, pluck="account_currency", distinct=True))
		out |= set(frappe.get_all("Sales Invoice", filters={"company": company, "docstatus": 1, "currency": ("!=", home)},
			pluck="currency", distinct=True))
		return sorted(c for c in out if c)

	def exchange_rates(self, company: str, since) -> list:
		import frappe
		from frappe.utils import getdate

		rows = frappe.get_all("Currency Exchange", filters={"to_currency": self._company_currency(company),
			"date": (">=", since), "for_selling": 1}, fields=["from_currency", "date", "exchange_rate"],
			order_by="date asc, from_currency asc")
		return [(r.from_currency, getdate(r.date), _rate(r.exchange_rate)) for r in rows]

	def exchange_rate(self, company: str, currency: str, day, exact: bool = False):
		import frappe

		filters = {"from_currency": currency, "to_currency": self._company_currency(company), "for_selling": 1,
			"date": day if exact else ("<=", day)}
		rows = frappe.get_all("Currency Exchange", filters=filters, fields=["exchange_rate"], order_by="date desc",
			limit=1)
		return _rate(rows[0].exchange_rate) if rows else None

	def set_exchange_rate(self, company: str, currency: str, day, rate) -> None:
		"""QuickBooks' rate of `day` as a Currency Exchange row (for selling and buying, as a day's rate is)."""
		import frappe

		home = self._company_currency(company)
		name = frappe.db.get_value("Currency Exchange", {"from_currency": currency, "to_currency": home, "date": day})
		if name:
			frappe.db.set_value("Currency Exchange", name, {"exchange_rate": float(rate), "for_selling": 1})
			return
		frappe.get_doc({"doctype": "Currency Exchange", "date": day, "from_currency": currency, "to_currency": home,
			"exchange_rate": float(rate), "for_selling": 1, "for_buying": 1}).insert(ignore_permissions=True)

	def exchange_gain_loss(self, company: str, payment_id: str):
		"""ERPNext's realized exchange gain/loss of a Payment Entry (its references' exchange_gain_loss)."""
		import frappe

		from nexora_qbo.sync import records as R

		rows = frappe.get_all("Payment Entry Reference", filters={"parent": payment_id, "parenttype": "Payment Entry"},
			pluck="exchange_gain_loss")
		# money, never _rate (a conversion rate defaults to 1: a zero start would count one unit of gain)
		return R.money(sum((R.money(v or 0) for v in rows), R.money(0)))

	# ------------------------------------------------------------------------------------------ AR tie-out
	def open_balances(self, company: str, as_of: date | None = None) -> list[dict]:
		"""The company's open receivables as ERPNext carries them (Ledger port; two queries, never per document):
		submitted Sales Invoices with an outstanding_amount (returns not booked against their invoice come out
		negative, as ERPNext stores them; a return against an invoice has 0 and is left out), and Payment Entries
		(Receive, Customer) with an unallocated_amount, negative. Home currency: the document's own rate
		(conversion_rate / source_exchange_rate)."""
		import frappe

		from nexora_qbo.sync import records as R

		filters: dict = {"company": company, "docstatus": 1, "outstanding_amount": ("!=", 0)}
		if as_of is not None:
			filters["posting_date"] = ("<=", as_of)
		out = []
		gl_home = self._home_by_invoice(company, as_of)
		for si in frappe.get_all(
			"Sales Invoice",
			filters=filters,
			fields=["name", "customer", "currency", "posting_date", "outstanding_amount", "conversion_rate", "is_return"],
			order_by="posting_date asc, name asc",
		):
			amount = R.money(si.outstanding_amount)
			rate = _rate(si.conversion_rate)
			row = _open_row(C.CREDIT_MEMO if si.is_return else C.INVOICE, si.name, si.customer, si.currency,
				si.posting_date, amount, rate)
			if si.name in gl_home:
				# home currency as ERPNext's ledger carries the invoice (base amounts per line, payments taken
				# off at its rate with their exchange gain/loss journals), not outstanding x rate recomputed
				row["outstanding_home"] = gl_home[si.name]
			out.append(row)
		pe_filters: dict = {"company": company, "docstatus": 1, "payment_type": "Receive", "party_type": "Customer",
			"unallocated_amount": (">", 0)}
		if as_of is not None:
			pe_filters["posting_date"] = ("<=", as_of)
		for pe in frappe.get_all(
			"Payment Entry",
			filters=pe_filters,
			fields=["name", "party", "paid_from_account_currency", "posting_date", "unallocated_amount",
				"source_exchange_rate"],
			order_by="posting_date asc, name asc",
		):
			out.append(_open_row(C.PAYMENT, pe.name, pe.party, pe.paid_from_account_currency, pe.posting_date,
				-R.money(pe.unallocated_amount), _rate(pe.source_exchange_rate)))
		# opening credits (an unapplied QBO payment at go-live) and other unreconciled Journal Entry credits on
		# a customer: open credit, negative, like a payment's unallocated amount
		from nexora_qbo.erpnext.mappers.opening_credit import open_credits

		for je in open_credits(company, as_of):
			out.append(_open_row(C.PAYMENT, je.name, je.party, je.account_currency, je.posting_date,
				-R.money(je.open_credit), _rate(je.exchange_rate)))
		return out

	def _home_by_invoice(self, company: str, as_of) -> dict:
		"""Per Sales Invoice, its open amount in company currency as ERPNext's Payment Ledger carries it (one
		query): the sum of `amount` (company currency) of the live (not delinked) Payment Ledger Entries on
		receivable accounts against it - the invoice itself, each payment at the invoice's rate, each exchange
		gain/loss journal. The Payment Ledger, not the GL: ERPNext v15 reconciles a later allocation
		(reconcile_against_document) in the Payment Ledger, where the GL keeps the payment against itself."""
		import frappe

		from nexora_qbo.sync import records as R

		filters: dict = {"company": company, "delinked": 0, "account_type": "Receivable",
			"against_voucher_type": "Sales Invoice", "against_voucher_no": ("is", "set")}
		if as_of is not None:
			filters["posting_date"] = ("<=", as_of)
		rows = frappe.get_all("Payment Ledger Entry", filters=filters,
			fields=["against_voucher_no as name", "sum(amount) as balance"], group_by="against_voucher_no")
		return {r.name: R.money(r.balance) for r in rows}

	def receivable_home_balances(self, company: str, as_of: date | None = None) -> dict:
		"""Per customer, ERPNext's home-currency AR as its general ledger carries it (Ledger port; one query):
		debit - credit in company currency of the non-cancelled GL Entries on the company's receivable accounts,
		party-wise. An Exchange Rate Revaluation books its Journal Entry per receivable account and party (rows
		referencing the revaluation, not an invoice; exchange_rate_revaluation.make_jv_for_revaluation), so no
		document's outstanding x rate ever shows it; this figure does, as the Accounts Receivable report does."""
		import frappe

		from nexora_qbo.sync import records as R

		conditions = ["gle.company = %(company)s", "gle.is_cancelled = 0", "gle.party_type = 'Customer'",
			"ifnull(gle.party, '') != ''", "acc.account_type = 'Receivable'"]
		if as_of is not None:
			conditions.append("gle.posting_date <= %(as_of)s")
		rows = frappe.db.sql(
			f"""select gle.party, sum(gle.debit - gle.credit) as balance
			from `tabGL Entry` gle
			join `tabAccount` acc on acc.name = gle.account
			where {' and '.join(conditions)}
			group by gle.party""",
			{"company": company, "as_of": as_of},
			as_dict=True,
		)
		return {r.party: R.money(r.balance) for r in rows}


def _rate(value):
	from decimal import Decimal

	return Decimal(str(value or 1))


def _open_row(local_type, name, customer, currency, posting_date, amount, rate) -> dict:
	from nexora_qbo.sync import records as R

	return {
		"local_type": local_type,
		"local_id": name,
		"customer": customer,
		"currency": currency,
		"txn_date": str(posting_date) if posting_date else None,
		"outstanding": amount,
		"outstanding_home": R.money(amount * rate),
		"exchange_rate": rate,
	}


def _no_ref(*_args):
	raise LedgerError("reference lookups are not available while reading a snapshot")


__all__ = ["FrappeLedger"]
