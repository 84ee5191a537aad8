"""A credit note's balance paid back to the customer: ERPNext Payment Entry "Pay" to a Customer against return
Sales Invoices ⇄ QBO JournalEntry + a zero Payment linking it with the CreditMemos.

Why this shape (an accountant's view). The credit note already took the revenue back in both books (ERPNext's
return invoice, QBO's CreditMemo); the refund only moves money: Dr the customer's receivable, Cr the bank. In
ERPNext that is exactly the Payment Entry "Pay" referencing the return invoice (its outstanding goes to 0). In
QBO the money-out transaction must post to Accounts Receivable for that customer and then be linked to the
credit by Receive payment (kb.geekgirlsit: "To enter a refund made manually with a paper check: ... use
account Accounts Receivable"; Intuit "Record a refund for an overpayment or credit"). A QBO RefundReceipt would
be wrong here: its item lines reduce income a second time (see refund_receipt.py for what a RefundReceipt IS).
The money-out document we create is a JournalEntry (Debit Accounts Receivable with Entity = the customer,
Credit the account mapped to the Payment Entry's paid_from; QBO refuses an A/R line without a customer),
then a Payment of TotalAmt 0 whose lines link the CreditMemo(s) and the JournalEntry (LinkedTxn TxnType
"JournalEntry"). ASSUMPTION: that a Payment may link a JournalEntry is reported by integrations' code and
qbo-api.md §9 ("a real mixed payment with Invoice + CreditMemo + JournalEntry lines"), not by Intuit's
reference; the sandbox models it so (sandbox/entities/journal.py). Result: income untouched in both books, the
credit memo's Balance 0 in QBO and the return invoice's outstanding 0 in ERPNext, the customer's Balance ties.

The linking Payment is mapped under the local key "<refund>#application" (payment type), so the pull knows it
as ours. QBO journal entries are never imported (they are general-ledger documents for many purposes); a QBO
Payment that links a JournalEntry and is not ours is refused in words (QBO_REFUND_NOT_BROUGHT), never booked as
money received.

Not mapped (review items in words): an ERPNext refund with no credit note in its references (an unallocated
advance paid back: NOT_AGAINST_CREDIT_HERE).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.base import EntitySpec, Resolver, drop_none, list_to_qbo, mapped_from_qbo, ref
from nexora_qbo.sync.outbox import request_id
from nexora_qbo.sync.ports import Mapping

if TYPE_CHECKING:
	from nexora_qbo.sync.services import RealmContext

APPLICATION_MARK = "#application"  # local key of a refund's linking Payment: "<refund>#application"
AR_ACCOUNT_KEY = "qbo_ar_account_id"  # RealmSettings.extra: QBO's Accounts Receivable account, found per run
AR_ACCOUNT_TYPE = "Accounts Receivable"

NOT_AGAINST_CREDIT_HERE = (
	"This refund pays out no credit note: it refunds money the customer paid in advance. It was not sent to "
	"QuickBooks. Record it there as a cheque to the customer against Accounts Receivable and link it to their "
	"payment in Receive payment, then choose \u201cDismiss\u201d; or cancel it here and make it against the "
	"customer's credit note.")
QBO_REFUND_NOT_BROUGHT = (
	"this QuickBooks payment links a journal entry, as a refund of the customer's credit does. It was not "
	"booked in ERPNext, where it would look like money received. Record the refund here as a Payment Entry "
	"(Pay) to the customer against their credit note, then choose \u201cDismiss\u201d")
REFUNDS_ARE_MADE_HERE = (
	"a refund of a credit note comes from ERPNext (Payment Entry Pay to the customer); QuickBooks journal "
	"entries are not brought in")
NO_AR_ACCOUNT = "QuickBooks has no Accounts Receivable account to record the refund against"


class NotRefundable(Exception):
	"""A refund one book can hold and the other cannot (the message is for the bookkeeper)."""


def application_key(refund_id: str) -> str:
	return f"{refund_id}{APPLICATION_MARK}"


def links_journal_entry(obj: dict) -> bool:
	"""A QBO Payment with a line linking a JournalEntry (a refund's link to the credit, ours or the bookkeeper's)."""
	return any(lt.get("TxnType") == "JournalEntry" for line in obj.get("Line") or [] for lt in line.get("LinkedTxn") or [])


def _credit_apps(rec: dict) -> list[dict]:
	return [a for a in rec.get("applications") or [] if a["doc_type"] == C.CREDIT_MEMO]


class RefundSpec(EntitySpec):
	local_type = C.REFUND
	qbo_entity = "JournalEntry"
	rank = C.RANK[C.REFUND]
	kind = "transaction"
	cancel_mode = "delete"  # JournalEntry is deletable, not voidable, through the API (qbo-api.md §1)
	field_keys = {
		"customer": ("Line",),
		"txn_date": ("TxnDate",),
		"total": ("Line",),
		"currency": ("CurrencyRef",),
		"exchange_rate": ("ExchangeRate",),
		"reference": ("Line", "PrivateNote"),
		"paid_from": ("Line",),
	}

	def to_qbo(self, record: dict, r: Resolver) -> dict:
		rec = R.normalize(C.REFUND, record)
		s = r.settings
		apps = _credit_apps(rec)
		if not apps:
			raise NotRefundable(NOT_AGAINST_CREDIT_HERE)
		ar = (s.extra or {}).get(AR_ACCOUNT_KEY)
		if not ar:
			raise NotRefundable(NO_AR_ACCOUNT)
		notes = ", ".join(a["doc_key"] for a in apps)
		what = f"Refund of credit note {notes}" + (f" ({rec['reference']})" if rec.get("reference") else "")
		customer = r.qbo_ref(C.CUSTOMER, rec["customer"])
		bank = list_to_qbo(s.account_map, rec.get("paid_from"), s.default_deposit_account_id)
		foreign = rec.get("currency") and rec["currency"] != s.home_currency
		return drop_none({
			"TxnDate": rec.get("txn_date"),
			"CurrencyRef": ref(rec.get("currency")) if foreign else None,
			"ExchangeRate": rec.get("exchange_rate") if foreign else None,
			"PrivateNote": f"{what} (Nexora QBO)",
			"Line": [
				{"DetailType": "JournalEntryLineDetail", "Amount": rec["total"], "Description": what,
					"JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": str(ar)},
						"Entity": {"Type": "Customer", "EntityRef": {"value": customer}}}},
				{"DetailType": "JournalEntryLineDetail", "Amount": rec["total"], "Description": what,
					"JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": ref(bank)}},
			],
		})

	def from_qbo(self, obj: dict, r: Resolver) -> dict:
		"""What QBO's journal entry says of the refund: the customer and amount of its A/R debit, the account its
		credit leaves. Which credit notes it pays out lives on the linking Payment, not here."""
		s = r.settings
		customer = total = paid_from = None
		for line in obj.get("Line") or []:
			d = line.get("JournalEntryLineDetail") or {}
			account = str((d.get("AccountRef") or {}).get("value") or "")
			entity = d.get("Entity") or {}
			# the A/R debit is the line naming the customer (QBO requires one on an A/R line)
			if d.get("PostingType") == "Debit" and entity.get("Type", "Customer") == "Customer" and entity.get("EntityRef"):
				cust = (entity.get("EntityRef") or {}).get("value")
				customer = r.local_ref("Customer", str(cust)) if cust else None
				total = R.money(R.money(total) + R.money(line.get("Amount")))
			elif d.get("PostingType") == "Credit":
				paid_from = mapped_from_qbo(s.account_map, account or None, s.default_deposit_account_id)
		return R.normalize(C.REFUND, {
			"customer": customer, "txn_date": obj.get("TxnDate"), "total": total,
			"currency": (obj.get("CurrencyRef") or {}).get("value") or s.home_currency,
			"exchange_rate": obj.get("ExchangeRate") or 1, "paid_from": paid_from, "qbo_txn_id": obj.get("Id"),
			"state": "submitted",
		})


def ensure_ar_account(ctx: RealmContext) -> str | None:
	"""QBO's Accounts Receivable account (looked up once per run, kept in the run's RealmSettings.extra)."""
	s = ctx.settings
	if (s.extra or {}).get(AR_ACCOUNT_KEY):
		return s.extra[AR_ACCOUNT_KEY]
	found = ctx.client.query(f"select * from Account where AccountType = '{AR_ACCOUNT_TYPE}'").records
	found = [a for a in found if a.get("Active", True)]
	if not found:
		return None
	s.extra = dict(s.extra or {})
	s.extra[AR_ACCOUNT_KEY] = str(found[0]["Id"])  # for this run (a store may not keep extras: one query each run)
	return s.extra[AR_ACCOUNT_KEY]


def _map(ctx: RealmContext, local_type: str, local_id: str, entity: str, obj: dict, now) -> Mapping:
	m = Mapping.ours(ctx.realm_id, local_type, local_id, entity, obj, now)
	ctx.services.store.save_mapping(m)
	return m


def apply_refund(ctx: RealmContext, refund_id: str, m: Mapping, local: dict, now, generation: int = 0) -> Mapping | None:
	"""After the JournalEntry exists in QBO: one zero Payment links it with every credit memo the refund pays
	out, so QBO's credit memos are consumed as ERPNext's return invoices are (deterministic requestid; skipped
	when already linked). Returns the linking Payment's mapping."""
	if m.status != C.ACTIVE:
		return None
	store = ctx.services.store
	key = application_key(refund_id)
	done = store.get_mapping(ctx.realm_id, C.PAYMENT, key)
	if done is not None:
		return done
	rec = R.normalize(C.REFUND, local)
	apps = _credit_apps(rec)
	amount = R.money(sum((a["amount"] for a in apps), R.money(0)))
	pay = ctx.client.create("Payment", {
		"CustomerRef": {"value": ctx.qbo_ref(C.CUSTOMER, rec["customer"])},
		"TotalAmt": R.money(0),
		"TxnDate": rec.get("txn_date"),
		"PrivateNote": f"Refund {refund_id} paid out of the customer's credit (Nexora QBO)",
		"Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": m.qbo_id, "TxnType": "JournalEntry"}]}]
			+ [{"Amount": a["amount"], "LinkedTxn": [{"TxnId": ctx.qbo_ref(C.CREDIT_MEMO, a["doc_key"]),
				"TxnType": "CreditMemo"}]} for a in apps],
	}, request_id=request_id(ctx.realm_id, C.PAYMENT, key, "create", generation))
	return _map(ctx, C.PAYMENT, key, "Payment", pay, now)


def unlink_refund(ctx: RealmContext, refund_id: str, generation: int = 0) -> None:
	"""Before the refund's journal entry is deleted (the ERPNext refund was cancelled): its linking Payment goes
	first, as QBO refuses to delete a transaction a payment links; the credit memo's balance comes back."""
	store = ctx.services.store
	key = application_key(refund_id)
	pm = store.get_mapping(ctx.realm_id, C.PAYMENT, key)
	if pm is None or pm.status != C.ACTIVE:
		return
	current = ctx.client.read("Payment", pm.qbo_id)
	ctx.client.delete("Payment", pm.qbo_id, current.get("SyncToken"),
		request_id=request_id(ctx.realm_id, C.PAYMENT, key, "delete", generation))
	pm.status = C.DELETED
	store.save_mapping(pm)


__all__ = ["APPLICATION_MARK", "NOT_AGAINST_CREDIT_HERE", "NotRefundable", "QBO_REFUND_NOT_BROUGHT",
	"REFUNDS_ARE_MADE_HERE", "RefundSpec", "application_key", "apply_refund", "ensure_ar_account",
	"links_journal_entry", "unlink_refund"]
