"""ERPNext documents <-> the engine's canonical records (nexora_qbo.sync.records), one module per entity.

	customer.py        Customer (+ primary Contact email/phone, primary Address)
	item.py            Item (+ Item Default of the company, selling Item Price)
	sales_invoice.py   Sales Invoice: invoices and credit notes (is_return=1)
	payment_entry.py   Payment Entry of type Receive, references <-> applications

Shared here: the errors the engine turns into review items, the per-company context (the QBO Realm's
ERPNext defaults and reference maps), echo suppression around writes coming from QBO, and a savepoint
wrapper so a refused write leaves nothing half-done behind.

Errors. The engine parks a pulled record whose application raises `SyncError` (or ValueError/KeyError/
TypeError) as a review item with the exception text as the reason. So every refusal here is a
`LedgerError` (a SyncError) whose message a bookkeeper can act on ("the item X is not in ERPNext yet",
"no income account"), never a bare KeyError or a Frappe traceback. Frappe's own validation errors
raised while saving are wrapped into a LedgerError carrying ERPNext's message.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterator

import frappe
from frappe.utils import strip_html_tags

from nexora_qbo.erpnext import constants as K
from nexora_qbo.sync import constants as C
from nexora_qbo.sync.errors import SyncError

ORIGIN = "qbo"
# the next step a refusal names: the review item's own button (its label, as the review form shows it)
RETRY_STEP = f"then choose \u201c{C.ACTION_LABELS[C.ACTION_RETRY]}\u201d on its review item"
_SAVEPOINT = "nexora_qbo_ledger"


class LedgerError(SyncError):
	"""ERPNext cannot (or must not) apply this change; the message is written for a bookkeeper."""


class MissingMasterData(LedgerError):
	"""A customer, item, account or other master record the document needs is missing or not mapped."""


class AmountMismatch(LedgerError):
	"""ERPNext's own total differs from QuickBooks' total: never forced, shown for review."""


class CannotCancel(LedgerError):
	"""ERPNext refuses to cancel the document (e.g. payments are still allocated to it)."""


# ----------------------------------------------------------------------------------------------------------
# per-company context
# ----------------------------------------------------------------------------------------------------------


@dataclass
class CompanyContext:
	"""What the mappers need to know about one company and its realm (read once per ledger call)."""

	company: str
	realm: str | None = None  # QBO Realm row name
	realm_id: str | None = None
	currency: str = "USD"
	country: str | None = None
	defaults: dict[str, Any] = field(default_factory=dict)  # QBO Realm ERPNext defaults + Company defaults
	settings: Any = None  # RealmSettings (reference maps) or None when the company has no realm

	def map_of(self, attr: str) -> dict[str, str]:
		return dict(getattr(self.settings, attr, None) or {})

	def mapped(self, attr: str, local: str | None) -> str | None:
		"""A local list value as the canonical record carries it: only when the realm maps it to a QBO Id
		(an unmapped value means "QBO's default", which is what an unmapped value is sent as)."""
		return local if local and local in self.map_of(attr) else None

	def default(self, key: str) -> Any:
		return self.defaults.get(key)


# (site, company) -> (realm row, its `modified`, the context built from them); see company_context
_CONTEXTS: dict[tuple, tuple] = {}


def company_context(company: str) -> CompanyContext:
	"""The company's context, built from its QBO Realm document (with its child tables: ~8 queries). Every
	ledger call needs it (a push reads it per invoice, issue 9 bench), so it is kept per company and reused
	while ONE query shows the same realm row and the same `modified` of the realm and of the Company (any
	save or set_value of either changes it, and a rolled-back change leaves the committed `modified`, which
	no longer matches)."""
	if not company:
		raise MissingMasterData(f"The company {company!r} does not exist in ERPNext.")
	rows = frappe.db.sql(
		f"select c.modified, r.name, r.modified from `tabCompany` c left join `tab{K.REALM}` r on r.company = c.name "
		"where c.name = %s order by r.creation limit 1",
		(company,),
	)
	if not rows:
		raise MissingMasterData(f"The company {company!r} does not exist in ERPNext.")
	company_modified, realm, realm_modified = rows[0]
	modified = (company_modified, realm_modified)
	key = (getattr(frappe.local, "site", None), company)
	kept = _CONTEXTS.get(key)
	if kept is not None and kept[0] == realm and kept[1] == modified and realm is not None:
		return kept[2]
	ctx = _build_context(company)
	if realm is not None and ctx.realm == realm:
		_CONTEXTS[key] = (realm, modified, ctx)
	else:
		_CONTEXTS.pop(key, None)
	return ctx


def _build_context(company: str) -> CompanyContext:
	co = frappe.get_cached_value(
		"Company",
		company,
		[
			"default_currency",
			"country",
			"default_receivable_account",
			"default_income_account",
			"default_bank_account",
			"default_cash_account",
			"cost_center",
		],
		as_dict=True,
	)
	ctx = CompanyContext(company=company, currency=co.default_currency or "USD", country=co.country)
	ctx.defaults = {
		"receivable_account": co.default_receivable_account,
		"income_account": co.default_income_account,
		"payment_account": co.default_bank_account or co.default_cash_account,
		"cost_center": co.cost_center,
	}
	realm = frappe.db.get_value(K.REALM, {"company": company}, "name")
	if realm:
		doc = frappe.get_doc(K.REALM, realm)
		ctx.realm, ctx.realm_id = realm, doc.realm_id
		ctx.settings = doc.to_settings()
		for key in K.REALM_ERPNEXT_DEFAULTS:
			if doc.get(key):
				ctx.defaults[key] = doc.get(key)
	return ctx


# ----------------------------------------------------------------------------------------------------------
# writing from QBO: echo suppression, savepoint, readable errors
# ----------------------------------------------------------------------------------------------------------


def mark_origin(doc) -> None:
	"""Per-document echo flag read by nexora_qbo.erpnext.events (frappe-notes A7)."""
	doc.flags[K.DOC_ORIGIN_FLAG] = ORIGIN
	doc.flags.ignore_permissions = True


def submit_journal_entry(je, rows) -> None:
	"""Append the account rows and insert + submit a Journal Entry the sync writes (a QBO deposit, a parent's
	payment, a credit applied in QBO), marked as ours before each step: insert and submit each fire doc events,
	and a reloaded document loses its flags, so the echo flag is set again before submit."""
	for row in rows:
		je.append("accounts", row)
	mark_origin(je)
	je.insert()
	mark_origin(je)
	je.submit()


@contextmanager
def inbound_write(what: str) -> Iterator[None]:
	"""Around every write coming from QBO:
	- `frappe.flags.nexora_qbo_inbound` is set, so cascaded saves (Contact, Address, the invoice status a
	  Payment Entry updates) record no outbox intent either;
	- a savepoint: a refused write leaves no half-created Contact or draft invoice behind;
	- Frappe errors become a LedgerError with ERPNext's message (the engine parks it for review)."""
	previous = frappe.flags.get(K.INBOUND_FLAG)
	frappe.flags[K.INBOUND_FLAG] = True
	savepoint = f"{_SAVEPOINT}_{frappe.generate_hash(length=8)}"
	frappe.db.savepoint(savepoint)
	try:
		yield
	except LedgerError:
		frappe.db.rollback(save_point=savepoint)
		frappe.local.message_log = []  # messages of a refused save must not leak into the job's response
		raise
	except Exception as exc:
		if _transient(exc):
			# a deadlock/lock timeout is not a bookkeeper's problem: the database already rolled the
			# transaction back (the savepoint is gone); the job fails and retries (execute_job)
			raise
		frappe.db.rollback(save_point=savepoint)
		frappe.local.message_log = []
		raise LedgerError(f"ERPNext refused {what}: {plain_error(exc)}") from exc
	finally:
		frappe.flags[K.INBOUND_FLAG] = previous


def _transient(exc: Exception) -> bool:
	if isinstance(exc, (frappe.QueryDeadlockError, frappe.QueryTimeoutError)):
		return True
	try:
		return bool(frappe.db.is_deadlocked(exc) or frappe.db.is_timedout(exc))
	except Exception:
		return False


def plain_error(exc: Exception) -> str:
	text = str(exc) or type(exc).__name__
	text = strip_html_tags(text)
	return re.sub(r"\s+", " ", text).strip()


# ----------------------------------------------------------------------------------------------------------
# values
# ----------------------------------------------------------------------------------------------------------


def text(value: Any) -> str | None:
	"""Plain text of a Data/Text Editor value (ERPNext wraps editor content in HTML)."""
	if value is None:
		return None
	s = strip_html_tags(str(value)) if "<" in str(value) else str(value)
	s = s.strip()
	return s or None


def dec(value: Any) -> Decimal:
	if value in (None, ""):
		return Decimal("0")
	return Decimal(str(value))


def is_qbo_placeholder(value: Any) -> bool:
	"""A list value QBO sent that the realm does not map ("qbo:<id>", see sync.entities.base.list_from_qbo)."""
	return isinstance(value, str) and value.startswith("qbo:")


def local_value(doctype: str, value: Any, company: str | None = None) -> str | None:
	"""`value` if it names an existing local record (of the company, for company-bound lists), else None."""
	if not value or is_qbo_placeholder(value):
		return None
	if not frappe.db.exists(doctype, value):
		return None
	if company and frappe.get_meta(doctype).has_field("company"):
		if frappe.db.get_value(doctype, value, "company") != company:
			return None
	return value


def account_of(company: str, value: Any, *, account_type: str | None = None) -> str | None:
	"""A local Account of the company named by `value` (a canonical account name), or None."""
	acc = local_value("Account", value, company)
	if acc and frappe.db.get_value("Account", acc, "is_group"):
		return None
	return acc


__all__ = [
	"RETRY_STEP",
	"AmountMismatch",
	"CannotCancel",
	"CompanyContext",
	"LedgerError",
	"MissingMasterData",
	"account_of",
	"company_context",
	"dec",
	"inbound_write",
	"is_qbo_placeholder",
	"local_value",
	"mark_origin",
	"plain_error",
	"text",
]


def disable_master(doctype: str, label: str, local_id: str, reason: str) -> None:
	"""A customer or item made inactive (QBO's "delete") in QuickBooks: disable it here, with a comment saying
	why. Master data is never deleted: old invoices still link to it."""
	if not frappe.db.exists(doctype, local_id):
		return
	with inbound_write(f"disabling the {label} {local_id}"):
		doc = frappe.get_doc(doctype, local_id)
		if doc.disabled:
			return
		doc.disabled = 1
		mark_origin(doc)
		doc.add_comment("Comment", f"Disabled by the QuickBooks sync: {reason}")
		doc.save()
