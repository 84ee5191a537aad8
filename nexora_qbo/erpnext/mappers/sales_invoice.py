"""Sales Invoice <-> canonical invoice / credit_memo record.

Invoices are Sales Invoices with is_return=0; credit memos are Sales Invoices with is_return=1 (negative
quantities, amounts shown positive in the canonical record), optionally `return_against` an invoice.

DocNumber is the Sales Invoice name (QBO allows 21 characters; "ACC-SINV-2026-00001" has 19), unless the
site config names another field (`nexora_qbo_doc_number_field`, e.g. a custom "qbo_doc_number"), which is
then also filled on invoices imported from QBO.

Invoices from QBO are created submitted, with QBO's dates (set_posting_time=1), rates and the tax total as
one "Actual" tax row on the realm's tax account (QBO computed it; it is carried, never recomputed). ERPNext
computes its own grand total; if that differs from QBO's TotalAmt by even a cent the invoice is NOT forced:
the draft is rolled back and an AmountMismatch explains both totals (a review item).
"""

from __future__ import annotations

from decimal import Decimal

import frappe
from frappe.utils import cint, getdate

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.mappers import (
	RETRY_STEP,
	AmountMismatch,
	CannotCancel,
	CompanyContext,
	LedgerError,
	MissingMasterData,
	dec,
	inbound_write,
	local_value,
	mark_origin,
	text,
)
from nexora_qbo.erpnext.mappers import timesheet_lines
from nexora_qbo.erpnext.mappers.item import price_list
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R

DOCTYPE = "Sales Invoice"
TAX_DESCRIPTION = "Sales tax (QuickBooks)"
_DEFAULT_REMARKS = ("No Remarks",)


def doc_number_field() -> str | None:
	"""Where QBO's number is kept: the site config's field, else the `qbo_doc_number` field made at install."""
	for field in (frappe.conf.get("nexora_qbo_doc_number_field"), K.CF_QBO_DOC_NUMBER):
		if field and frappe.get_meta(DOCTYPE).has_field(field):
			return field
	return None


def note_qbo_number(ctx: CompanyContext, local_type: str, local_id: str, doc_number: str) -> None:
	"""QBO numbered a pushed invoice itself (custom transaction numbers off): keep that number (allowed on a
	submitted invoice: the field is allow_on_submit)."""
	field = doc_number_field()
	if field and frappe.db.exists(DOCTYPE, local_id):
		frappe.db.set_value(DOCTYPE, local_id, field, doc_number, update_modified=False)


def _taxable_rows(doc) -> list[bool]:
	"""Taxability per line from ERPNext's item tax: a row whose item tax template sets every tax account of
	the invoice to 0 % (per diem, mileage, reimbursements) is non-taxable; without any tax on the invoice,
	nothing is taxable."""
	import json

	accounts = {t.account_head for t in doc.get("taxes") or [] if t.charge_type != "Actual" or t.tax_amount}
	if not accounts or not dec(doc.total_taxes_and_charges):
		return [False] * len(doc.get("items") or [])
	out = []
	for it in doc.get("items") or []:
		try:
			rates = json.loads(it.item_tax_rate or "{}") or {}
		except ValueError:
			rates = {}
		mine = [float(rates[a]) for a in accounts if a in rates]
		out.append(not (mine and all(r == 0 for r in mine)))
	return out


def _service_dates(doc, matched: list) -> list:
	"""The week or day worked, per line: the row's service start date, else the first day worked on the
	timesheet the row bills (timesheet_lines), else the first day of the timesheet rows billed on this
	invoice (ERPNext's Sales Invoice Timesheet)."""
	days = [getdate(ts.from_time) for ts in doc.get("timesheets") or [] if ts.from_time]
	first = min(days) if days else None
	return [it.get("service_start_date") or day or first for it, (_text, day) in zip(doc.get("items") or [], matched)]


def location_field() -> str | None:
	"""The Sales Invoice field that holds the QBO Location (Department): the Branch accounting dimension's
	(label "Branch" makes it `branch`). Without one, locations are neither sent nor imported; a disabled one
	is none (ERPNext keeps its field, read-only, on the documents: it must not read as a dimension in use).

	Read through ERPNext's own per-request list of enabled dimensions (the one its GL posting uses, reset when a
	dimension is saved): one query per job instead of one per pushed invoice (issue 9); only a site without an
	enabled Branch dimension asks once more whether a disabled one exists."""
	from erpnext.accounts.doctype.accounting_dimension.accounting_dimension import get_accounting_dimensions

	field = next((d.fieldname for d in get_accounting_dimensions(as_list=False)
		if d.document_type == "Branch" and not cint(d.disabled)), None)
	if field is None:
		if frappe.db.exists("Accounting Dimension", {"document_type": "Branch", "disabled": 1}):
			return None
		field = "branch"
	return field if frappe.get_meta(DOCTYPE).has_field(field) else None


def _dimension(ctx: CompanyContext, attr: str, value: str | None) -> str | None:
	"""A class (cost center) or location (branch) as the record carries it. Mapped: itself. Unmapped but chosen
	(a cost center other than the default one while the realm maps classes at all; any branch): kept too, so
	the engine's check (sync/identity.py) opens a review item instead of the dimension being dropped. The
	default cost center of a realm that maps no classes means "no class" and is not sent."""
	if not value:
		return None
	known = ctx.map_of(attr)
	if value in known:
		return value
	if attr == "class_map" and (not known or value == ctx.default("cost_center")):
		return None
	return value


def _is_return(local_type: str) -> int:
	return 1 if local_type == C.CREDIT_MEMO else 0


# ----------------------------------------------------------------------------------------------------------
# read
# ----------------------------------------------------------------------------------------------------------


# What to_record reads: the parent's fields and the item rows, in two queries. frappe.get_doc would load every
# child table of a Sales Invoice (taxes, payment schedule, sales team, advances, packed items, timesheets…),
# ~10 queries per document on every push of it (issue 9: the Frappe layer's cost per pushed document).
_READ_FIELDS = ("name", "company", "is_return", "total_taxes_and_charges", "cost_center", "remarks", "docstatus",
	"customer", "posting_date", "due_date", "currency", "conversion_rate", "payment_terms_template",
	"taxes_and_charges", "grand_total", "return_against", "update_outstanding_for_self", "outstanding_amount",
	"amended_from", "is_opening", "discount_amount")
_ITEM_FIELDS = ("item_code", "item_name", "description", "qty", "rate", "amount", "cost_center", "item_tax_rate",
	"service_start_date")
# the child rows the line mapping reads besides the items: taxability per line and the timesheets' dates
_CHILD_READS = (
	("taxes", "Sales Taxes and Charges", ("account_head", "charge_type", "tax_amount")),
	("timesheets", "Sales Invoice Timesheet", timesheet_lines.TIMESHEET_FIELDS),
)


def _read(name: str, extra: tuple) -> frappe._dict | None:
	# plain SELECTs (the fields are ours and known to exist; the query builder cost more than the query, issue 9)
	fields = list(_READ_FIELDS) + [f for f in extra if f and f not in _READ_FIELDS]
	rows = frappe.db.sql(
		"select {} from `tab{}` where name=%s".format(", ".join(f"`{f}`" for f in fields), DOCTYPE), (name,),
		as_dict=True,
	)
	if not rows:
		return None
	doc = rows[0]
	for fieldname, child, cols in (("items", "Sales Invoice Item", _ITEM_FIELDS), *_CHILD_READS):
		doc[fieldname] = frappe.db.sql(
			"select {} from `tab{}` where parent=%s and parenttype=%s and parentfield=%s order by idx asc".format(
				", ".join(f"`{c}`" for c in cols), child),
			(name, DOCTYPE, fieldname),
			as_dict=True,
		)
	return doc


def to_record(ctx: CompanyContext, local_type: str, name: str) -> dict | None:
	field = doc_number_field()
	location = location_field()
	doc = _read(name, (field, location))
	if doc is None:
		return None
	if doc.company != ctx.company or cint(doc.is_return) != _is_return(local_type):
		return None
	tax_total = abs(dec(doc.total_taxes_and_charges))
	lines = []
	# a row billed from a timesheet that still has the item's description: worker, period, hours, kind
	from_timesheets = timesheet_lines.line_texts(doc)
	taxable_rows, service_dates = _taxable_rows(doc), _service_dates(doc, from_timesheets)
	for n, it in enumerate(doc["items"]):  # (a frappe._dict: .items is the dict method)
		description = from_timesheets[n][0] or text(it.description)
		if description in (it.item_name, it.item_code):
			description = None
		lines.append(
			{
				"item": it.item_code,
				"description": description,
				"qty": abs(dec(it.qty)),
				"rate": abs(dec(it.rate)),
				"amount": abs(dec(it.amount)),
				"class_": _dimension(ctx, "class_map", it.cost_center)
				if it.cost_center != doc.cost_center
				else None,
				"service_date": service_dates[n],
				"taxable": taxable_rows[n],
			}
		)
	remarks = text(doc.remarks)
	state = {0: "draft", 1: "submitted", 2: "cancelled"}[cint(doc.docstatus)]
	return R.normalize(
		local_type,
		{
			"doc_number": (doc.get(field) if field else None) or doc.name,
			"customer": doc.customer,
			"txn_date": doc.posting_date,
			"due_date": doc.due_date if local_type == C.INVOICE else None,
			"currency": doc.currency,
			"exchange_rate": dec(doc.conversion_rate or 1),
			"terms": ctx.mapped("terms_map", doc.payment_terms_template) if local_type == C.INVOICE else None,
			"class_": _dimension(ctx, "class_map", doc.cost_center),
			"location": _dimension(ctx, "location_map", doc.get(location)) if location else None,
			"memo": None if remarks in _DEFAULT_REMARKS else remarks,
			"lines": lines,
			"tax_total": tax_total,
			"tax_code": doc.get("taxes_and_charges") or None,
			# additional discount on the net total <-> QBO's DiscountLineDetail (issue 13)
			"discount_amount": abs(dec(doc.discount_amount)),
			"total": abs(dec(doc.grand_total)),
			# "against" in the engine's sense: the note's credit is booked against that invoice's outstanding
			# (update_outstanding_for_self=0). A note that keeps its own credit (ERPNext's default) is, for
			# QBO, an unapplied credit memo: applying it is a separate step (a QBO payment / ERPNext
			# Payment Reconciliation), never assumed.
			"against_invoice": doc.return_against
			if local_type == C.CREDIT_MEMO and not cint(doc.update_outstanding_for_self)
			else None,
			"state": state,
			"outstanding": abs(dec(doc.outstanding_amount)),
			# ERPNext's cancel → amend trail: the engine updates the original's QBO record in place when a
			# bookkeeper edit is pending on it (BookkeeperEdits.amend_in_place)
			"amended_from": doc.get("amended_from") or None,
			"opening": doc.get("is_opening") == "Yes",
		},
	)


# ----------------------------------------------------------------------------------------------------------
# list / match
# ----------------------------------------------------------------------------------------------------------


def list_ids(ctx: CompanyContext, local_type: str, since=None) -> list[str]:
	filters = {"company": ctx.company, "docstatus": 1, "is_return": _is_return(local_type)}
	if since:
		filters["posting_date"] = (">=", getdate(since))
	return frappe.get_all(DOCTYPE, filters=filters, pluck="name", order_by="posting_date asc, creation asc")


def find_match(ctx: CompanyContext, local_type: str, record: dict) -> str | None:
	"""Same document number and customer (a QBO invoice we pushed, or one typed in both places)."""
	rec = R.normalize(local_type, record)
	if not rec.get("doc_number") or not rec.get("customer"):
		return None
	base = {
		"company": ctx.company,
		"customer": rec["customer"],
		"is_return": _is_return(local_type),
		"docstatus": ("!=", 2),
	}
	hits = set(frappe.get_all(DOCTYPE, filters={**base, "name": rec["doc_number"]}, pluck="name"))
	field = doc_number_field()
	if field:
		hits |= set(frappe.get_all(DOCTYPE, filters={**base, field: rec["doc_number"]}, pluck="name"))
	return hits.pop() if len(hits) == 1 else None


# ----------------------------------------------------------------------------------------------------------
# write (from QBO)
# ----------------------------------------------------------------------------------------------------------


def upsert(ctx: CompanyContext, local_type: str, local_id: str | None, record: dict) -> str:
	rec = R.normalize(local_type, record)
	what = "credit note" if local_type == C.CREDIT_MEMO else "invoice"
	label = f"the QuickBooks {what} {rec.get('doc_number') or ''}".strip()
	if local_id is not None:
		return _update_submitted(ctx, local_type, local_id, rec, label)
	if rec.get("opening"):
		return _insert_opening(ctx, local_type, rec, label)
	_check_masters(ctx, rec, label)
	with inbound_write(label):
		doc = _build(ctx, local_type, rec, label)
		mark_origin(doc)
		doc.insert()
		_check_total(doc, rec, label)
		mark_origin(doc)
		doc.submit()
	return doc.name


def _update_submitted(ctx: CompanyContext, local_type: str, local_id: str, rec: dict, label: str) -> str:
	"""A submitted invoice is immutable: the engine only asks for editable fields; a change of amounts or
	lines is refused with a reason (it is a review item, never silently copied)."""
	current = to_record(ctx, local_type, local_id)
	if current is None:
		raise LedgerError(f"{label}: the ERPNext document {local_id} no longer exists.")
	changed = [
		f
		for f in R.TRANSACTION_AMOUNT_FIELDS
		if f in R.CONTENT_FIELDS[local_type]
		and R.content(local_type, current).get(f) != R.content(local_type, rec).get(f)
	]
	if changed:
		raise LedgerError(
			f"{label} changed ({', '.join(changed)}) but {local_id} is submitted in ERPNext and cannot be "
			f"edited; cancel and amend it in ERPNext, or keep the ERPNext version."
		)
	return local_id


def _check_masters(ctx: CompanyContext, rec: dict, label: str) -> None:
	if not rec.get("customer") or not frappe.db.exists("Customer", rec["customer"]):
		raise MissingMasterData(
			f"{label} is for customer {rec.get('customer')!r}, which is not in ERPNext yet. Import or create "
			f"the customer, {RETRY_STEP}."
		)
	if not rec.get("lines"):
		raise LedgerError(f"{label} has no item lines; ERPNext cannot book an invoice without items.")
	for n, line in enumerate(rec["lines"], start=1):
		if not line.get("item"):
			raise MissingMasterData(
				f"{label}, line {n} ({line.get('description') or line.get('amount')}) has no product/service; "
				f"ERPNext needs an item on every line. Set one in QuickBooks, {RETRY_STEP}."
			)
		if not frappe.db.exists("Item", line["item"]):
			raise MissingMasterData(
				f"{label}, line {n} uses the item {line['item']!r}, which is not in ERPNext yet. Import or "
				f"create it, {RETRY_STEP}."
			)


def _income_account(ctx: CompanyContext, item_code: str, label: str) -> str:
	from erpnext.stock.doctype.item.item import get_item_defaults

	defaults = get_item_defaults(item_code, ctx.company) or {}
	account = defaults.get("income_account")
	if not account:
		group = frappe.db.get_value("Item", item_code, "item_group")
		account = frappe.db.get_value(
			"Item Default",
			{"parent": group, "parenttype": "Item Group", "company": ctx.company},
			"income_account",
		)
	account = account or ctx.default("income_account")
	if not account:
		raise MissingMasterData(
			f"{label}: no income account for item {item_code!r} in company {ctx.company}. Set one on the item "
			f"(Item Defaults), on the QBO Realm or as the company's default income account, {RETRY_STEP}."
		)
	return account


def _receivable(ctx: CompanyContext, customer: str) -> str | None:
	from erpnext.accounts.party import get_party_account

	return get_party_account("Customer", customer, ctx.company) or ctx.default("receivable_account")


def _build(ctx: CompanyContext, local_type: str, rec: dict, label: str):
	is_return = _is_return(local_type)
	sign = -1 if is_return else 1
	doc = frappe.new_doc(DOCTYPE)
	doc.company = ctx.company
	doc.customer = rec["customer"]
	doc.set_posting_time = 1
	doc.posting_date = rec["txn_date"]
	doc.posting_time = qbo_posting_time(ctx.company, rec["txn_date"])
	doc.due_date = (rec.get("due_date") if not is_return else None) or rec["txn_date"]
	doc.currency = rec.get("currency") or ctx.currency
	doc.conversion_rate = float(rec.get("exchange_rate") or 1)
	doc.selling_price_list = price_list(ctx)
	doc.ignore_pricing_rule = 1
	doc.disable_rounded_total = 1
	# QBO's due date is the truth: no schedule from the customer's default payment terms template
	doc.ignore_default_payment_terms_template = 1
	doc.update_stock = 0
	doc.debit_to = _receivable(ctx, rec["customer"])
	header_cc = local_value("Cost Center", rec.get("class_"), ctx.company) or ctx.default("cost_center")
	doc.cost_center = header_cc
	# the QBO Location on the Branch dimension, header and rows (GL rows take the row's dimension)
	location = location_field()
	branch = local_value("Branch", rec.get("location")) if location else None
	dimension = {location: branch} if branch else {}
	doc.update(dimension)
	if rec.get("memo"):
		doc.remarks = rec["memo"]
	field = doc_number_field()
	if field and rec.get("doc_number"):
		doc.set(field, rec["doc_number"])
	if is_return:
		doc.is_return = 1
		against = rec.get("against_invoice")
		if against:
			if frappe.db.get_value(DOCTYPE, against, "docstatus") != 1:
				raise MissingMasterData(
					f"{label} is against invoice {against}, which is not submitted in ERPNext."
				)
			doc.return_against = against
			doc.update_outstanding_for_self = 0
		else:
			doc.update_outstanding_for_self = 1
	for line in rec["lines"]:
		rate = float(line["rate"])
		doc.append(
			"items",
			{
				"item_code": line["item"],
				"item_name": frappe.db.get_value("Item", line["item"], "item_name"),
				"description": line.get("description")
				or frappe.db.get_value("Item", line["item"], "item_name"),
				"qty": float(line["qty"]) * sign,
				"rate": rate,
				"price_list_rate": rate,
				"conversion_factor": 1,
				"income_account": _income_account(ctx, line["item"], label),
				"cost_center": local_value("Cost Center", line.get("class_"), ctx.company) or header_cc,
				**dimension,
			},
		)
	discount = R.money(rec.get("discount_amount"))
	if discount:  # QBO's invoice-level discount: ERPNext's additional discount on the net total
		doc.apply_discount_on = "Net Total"
		doc.discount_amount = float(discount) * sign
	tax_total = rec.get("tax_total") or Decimal(0)
	if tax_total:
		account = ctx.default("tax_account")
		if not account:
			raise MissingMasterData(
				f"{label} carries sales tax of {tax_total}, but the QBO Realm of {ctx.company} has no Tax Account. "
				f"Set the Tax Account on the QBO Realm, {RETRY_STEP}."
			)
		doc.append(
			"taxes",
			{
				"charge_type": "Actual",
				"account_head": account,
				"description": TAX_DESCRIPTION,
				"tax_amount": float(tax_total) * sign,
				"cost_center": header_cc,
				"dont_recompute_tax": 1,
				**dimension,
			},
		)
	return doc


def temporary_opening_account(ctx: CompanyContext, label: str) -> str:
	account = frappe.db.get_value(
		"Account", {"company": ctx.company, "account_type": "Temporary", "is_group": 0}, "name"
	)
	if not account:
		raise MissingMasterData(
			f"{label}: company {ctx.company} has no Temporary Opening account (an Account of type "
			f"Temporary). Create one in the chart of accounts, then run the go-live again."
		)
	return account


def _insert_opening(ctx: CompanyContext, local_type: str, rec: dict, label: str) -> str:
	"""An open QBO invoice or credit memo at go-live, the way ERPNext's Opening Invoice Creation Tool books
	it: is_opening "Yes", one line for the open balance against the Temporary Opening account, no item, no
	tax. Its revenue is already in the opening books, so nothing is booked twice; only what is owed comes in."""
	if not rec.get("customer") or not frappe.db.exists("Customer", rec["customer"]):
		raise MissingMasterData(f"{label} is for customer {rec.get('customer')!r}, which is not in ERPNext yet.")
	is_return = _is_return(local_type)
	sign = -1 if is_return else 1
	balance = float(R.money(rec.get("total")))
	account = temporary_opening_account(ctx, label)
	with inbound_write(label):
		doc = frappe.new_doc(DOCTYPE)
		doc.company = ctx.company
		doc.customer = rec["customer"]
		doc.is_opening = "Yes"
		doc.set_posting_time = 1
		doc.posting_date = rec["txn_date"]
		doc.posting_time = qbo_posting_time(ctx.company, rec["txn_date"])
		doc.due_date = (rec.get("due_date") if not is_return else None) or rec["txn_date"]
		doc.currency = rec.get("currency") or ctx.currency
		doc.conversion_rate = float(rec.get("exchange_rate") or 1)
		doc.debit_to = _receivable(ctx, rec["customer"])
		doc.cost_center = ctx.default("cost_center")
		doc.disable_rounded_total = 1
		doc.ignore_default_payment_terms_template = 1
		doc.update_stock = 0
		doc.remarks = rec.get("memo")
		field = doc_number_field()
		if field and rec.get("doc_number"):
			doc.set(field, rec["doc_number"])
		if is_return:
			doc.is_return = 1
			doc.update_outstanding_for_self = 1
		line = (rec.get("lines") or [{}])[0]
		doc.append(
			"items",
			{
				"item_name": "Opening Invoice Item",
				"description": line.get("description") or rec.get("memo") or "Opening balance",
				"uom": frappe.db.get_single_value("Stock Settings", "stock_uom") or "Nos",
				"qty": 1 * sign,
				"rate": balance,
				"conversion_factor": 1,
				"income_account": account,
				"cost_center": ctx.default("cost_center"),
			},
		)
		mark_origin(doc)
		doc.insert()
		_check_total(doc, rec, label)
		mark_origin(doc)
		doc.submit()
	return doc.name


def qbo_posting_time(company: str, posting_date) -> str:
	"""Posting time of a document imported from QBO (QBO has dates, not times).

	ERPNext refuses a return whose posting timestamp is not after its invoice's ("Posting timestamp must be
	after ..."): a fixed 12:00 blocked every same-morning credit note against an invoice from QBO. Documents
	from QBO take the first hour of their day, one second apart in the order the sync books them (QBO's
	order: dependency rank, then LastUpdatedTime), so a QBO invoice precedes its QBO credit memo and every
	local document of that day (posted at the time it is made) comes after both."""
	latest = frappe.db.sql(
		"""select max(posting_time) from `tabSales Invoice`
		where company=%s and posting_date=%s and docstatus < 2 and posting_time < %s""",
		(company, getdate(posting_date), K.QBO_POSTING_WINDOW_END),
	)[0][0]
	if latest is None:
		seconds = 0
	else:
		seconds = min(int(latest.total_seconds()) + 1, K.QBO_POSTING_WINDOW_SECONDS - 1)
	return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _check_total(doc, rec: dict, label: str) -> None:
	erpnext_total = abs(dec(doc.grand_total)).quantize(R.CENT)
	qbo_total = R.money(rec.get("total"))
	if erpnext_total != qbo_total:
		diffs = []
		for row, line in zip(doc.items, rec["lines"]):
			if abs(dec(row.amount)).quantize(R.CENT) != R.money(line["amount"]):
				diffs.append(
					f"{line['item']}: ERPNext {abs(dec(row.amount)):.2f} vs QuickBooks {line['amount']}"
				)
		detail = f" Line differences: {'; '.join(diffs)}." if diffs else ""
		raise AmountMismatch(
			f"{label}: ERPNext computes a total of {erpnext_total} but QuickBooks says {qbo_total} "
			f"(difference {erpnext_total - qbo_total}). The document was not created so the books never "
			f"disagree silently; check rounding, discounts and tax in QuickBooks.{detail}"
		)


# ----------------------------------------------------------------------------------------------------------
# cancel (QBO voided/deleted it)
# ----------------------------------------------------------------------------------------------------------


def linked_payments(name: str) -> list[str]:
	return frappe.get_all(
		"Payment Entry Reference",
		filters={
			"reference_doctype": DOCTYPE,
			"reference_name": name,
			"docstatus": 1,
			"parenttype": "Payment Entry",
		},
		pluck="parent",
		distinct=True,
	)


def cancel(ctx: CompanyContext, local_type: str, local_id: str, reason: str) -> None:
	if not frappe.db.exists(DOCTYPE, local_id):
		return
	docstatus = cint(frappe.db.get_value(DOCTYPE, local_id, "docstatus"))
	if docstatus == 2:
		return
	what = "credit note" if local_type == C.CREDIT_MEMO else "invoice"
	if docstatus == 0:
		with inbound_write(f"deleting the draft {what} {local_id}"):
			frappe.delete_doc(DOCTYPE, local_id, ignore_permissions=True, flags={"nexora_qbo_origin": "qbo"})
		return
	payments = linked_payments(local_id)
	unlink = cint(
		frappe.db.get_single_value("Accounts Settings", "unlink_payment_on_cancellation_of_invoice")
	)
	if payments and not unlink:
		raise CannotCancel(
			f"The {what} {local_id} was {reason}, but ERPNext cannot cancel it while payments are allocated to "
			f"it ({', '.join(sorted(payments))}). Cancel those Payment Entries first (or turn on Accounts "
			f"Settings > 'Unlink Payment on Cancellation of Invoice' so they become advances), then accept "
			f"the QuickBooks change again."
		)
	returns = frappe.get_all(DOCTYPE, filters={"return_against": local_id, "docstatus": 1}, pluck="name")
	if returns:
		raise CannotCancel(
			f"The {what} {local_id} was {reason}, but credit notes {', '.join(returns)} are booked against it. "
			f"Cancel them first, then accept the QuickBooks change again."
		)
	with inbound_write(f"cancelling the {what} {local_id}"):
		doc = frappe.get_doc(DOCTYPE, local_id)
		mark_origin(doc)
		doc.add_comment("Comment", f"Cancelled by the QuickBooks sync: {reason}")
		doc.cancel()
