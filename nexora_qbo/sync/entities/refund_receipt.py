"""Refund to a customer: ERPNext Payment Entry "Pay" to a Customer ⇄ QBO RefundReceipt.

What each book calls a refund. In ERPNext a refund is a Payment Entry with payment_type "Pay", party_type
Customer, paid from a bank/cash account, whose references pay out a credit note's (Sales Invoice return)
negative outstanding (or, without references, an unallocated advance). In QBO the money-out document is a
RefundReceipt (python-quickbooks quickbooks/objects/refundreceipt.py: SalesReceipt-like Line[], TxnTaxDetail,
TotalAmt, DepositToAccountRef = the account the refund is paid from, PaymentMethodRef, PaymentRefNum,
CustomerRef, CurrencyRef, header LinkedTxn[]). A RefundReceipt has no A/R of its own; how QBO lets it consume a
credit memo's balance is only partly documented, so both ways are handled (sandbox/entities/refund.py says the
same from the server's side):
- documented (Intuit help "Record a refund for an overpayment or credit in QuickBooks Online"; accurabooks,
  kb.geekgirlsit): the money-out transaction is linked to the customer's credit by Receive payment, i.e. a
  Payment of TotalAmt 0 whose lines link the refund (charge side) and the CreditMemo (credit side);
- unknown: a LinkedTxn[{TxnType: "CreditMemo"}] on the RefundReceipt itself (QuickBooks Desktop's
  ARRefundCreditCardAdd links refunds to credit memos directly; nothing shows QBO Online keeping it).
Push: the RefundReceipt is sent WITH the LinkedTxn to each credit memo; if QBO's answer does not keep a link,
`apply_refund` creates the zero Payment that links that credit memo and the refund (mapped under the local key
"<refund>#application", so the pull knows it as ours), then re-reads the refund so its snapshot includes the
link. Pull: a RefundReceipt's credit memos come from its own CreditMemo links and from the Payments that link
it (read by id); a QBO Payment that links a RefundReceipt is that refund's application, not a payment of the
customer (the pull leaves it to the refund, `is_refund_application`).

Not mapped (review items, in a bookkeeper's words): an ERPNext refund with no credit note in its references
(refund of an unallocated advance: QBO has no RefundReceipt for that, its way is a cheque against A/R linked to
the payment), and a QuickBooks refund that is linked to no credit memo (it does not change what the customer
owes in QuickBooks, so a Payment Entry "Pay" in ERPNext would: NOT_AGAINST_CREDIT_IN_QBO).

The line: QBO needs one, with an item. It is one line of the helper service item "Refund of customer credit"
(found by name or created once, mapped under the local key "#refund-item") whose income account is the QBO
account the realm maps to the ERPNext account named REFUND_ACCOUNT_KEY (else the realm's default income
account): when the refund pays out a credit the money's other side is the customer's credit, and which account
the line's posting lands in is the realm's choice, not a guess of ours.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.base import (
	EntitySpec,
	Resolver,
	drop_none,
	list_from_qbo,
	list_to_qbo,
	mapped_from_qbo,
	quote,
	ref,
	ref_value,
)
from nexora_qbo.sync.outbox import request_id
from nexora_qbo.sync.ports import Mapping

if TYPE_CHECKING:
	from nexora_qbo.sync.services import RealmContext

APPLICATION_MARK = "#application"  # local key of a refund's linking Payment: "<refund>#application"
ITEM_KEY = "#refund-item"
ITEM_NAME = "Refund of customer credit"
REFUND_ACCOUNT_KEY = "Customer refunds"  # the ERPNext account name a realm may map for the helper item

NOT_AGAINST_CREDIT_HERE = (
	"This refund pays out no credit note: it refunds money the customer paid in advance. QuickBooks records "
	"that as a cheque to the customer against Accounts Receivable, linked to their payment by Receive "
	"payment, not as a refund receipt. Record it that way in QuickBooks, then choose \u201cDismiss\u201d; or "
	"cancel it here and make it against the customer's credit note.")
NOT_AGAINST_CREDIT_IN_QBO = (
	"This QuickBooks refund receipt is not linked to any credit memo, so it does not change what the customer "
	"owes in QuickBooks; booked in ERPNext it would. If it pays out a credit, link them in QuickBooks (Receive "
	"payment: tick the credit memo and this refund), then choose \u201cRetry\u201d. If it refunds a sale that was "
	"never credited, make a credit note and its refund in ERPNext, then choose \u201cDismiss\u201d.")


class NotRefundable(Exception):
	"""A refund one book can hold and the other cannot (the message is for the bookkeeper)."""


def application_key(refund_id: str) -> str:
	return f"{refund_id}{APPLICATION_MARK}"


def is_refund_application(obj: dict) -> bool:
	"""A QBO Payment whose lines link a RefundReceipt: the refund's link to a credit memo (the pull leaves it to
	the refund, which reads it), never money received from the customer."""
	return any(lt.get("TxnType") == "RefundReceipt" for line in obj.get("Line") or [] for lt in line.get("LinkedTxn") or [])


class RefundReceiptSpec(EntitySpec):
	local_type = C.REFUND
	qbo_entity = "RefundReceipt"
	rank = C.RANK[C.REFUND]
	kind = "transaction"
	cancel_mode = "delete"  # RefundReceipt is deletable, not voidable, through the API (qbo-api.md §1)
	field_keys = {
		"customer": ("CustomerRef",),
		"txn_date": ("TxnDate",),
		"total": ("Line",),
		"currency": ("CurrencyRef",),
		"exchange_rate": ("ExchangeRate",),
		"reference": ("PaymentRefNum",),
		"paid_from": ("DepositToAccountRef",),
		"payment_method": ("PaymentMethodRef",),
		"applications": ("LinkedTxn", "Line"),
	}

	def to_qbo(self, record: dict, r: Resolver) -> dict:
		rec = R.normalize(C.REFUND, record)
		s = r.settings
		apps = [a for a in rec["applications"] if a["doc_type"] == C.CREDIT_MEMO]
		if not apps:
			raise NotRefundable(NOT_AGAINST_CREDIT_HERE)
		body = {
			"CustomerRef": ref(r.qbo_ref(C.CUSTOMER, rec["customer"])),
			"TxnDate": rec.get("txn_date"),
			"CurrencyRef": ref(rec.get("currency")),
			"ExchangeRate": rec.get("exchange_rate") if rec.get("currency") and rec["currency"] != s.home_currency else None,
			"PaymentRefNum": rec.get("reference"),
			"DepositToAccountRef": ref(list_to_qbo(s.account_map, rec.get("paid_from"), s.default_deposit_account_id)),
			"PaymentMethodRef": ref(list_to_qbo(s.payment_method_map, rec.get("payment_method"))),
			"Line": [{"DetailType": "SalesItemLineDetail", "Amount": rec["total"],
				"Description": "Refund of " + ", ".join(a["doc_key"] for a in apps),
				"SalesItemLineDetail": {"ItemRef": ref(r.qbo_ref(C.ITEM, ITEM_KEY)), "TaxCodeRef": {"value": "NON"}}}],
			"TxnTaxDetail": {"TotalTax": R.money(0)},
			"LinkedTxn": [{"TxnId": r.qbo_ref(C.CREDIT_MEMO, a["doc_key"]), "TxnType": "CreditMemo"} for a in apps],
		}
		return drop_none(body)

	def from_qbo(self, obj: dict, r: Resolver) -> dict:
		s = r.settings
		customer_id = ref_value(obj, "CustomerRef")
		return R.normalize(C.REFUND, {
			"customer": r.local_ref("Customer", customer_id) if customer_id else None,
			"txn_date": obj.get("TxnDate"),
			"total": obj.get("TotalAmt"),
			"currency": ref_value(obj, "CurrencyRef") or s.home_currency,
			"exchange_rate": obj.get("ExchangeRate") or 1,
			"reference": obj.get("PaymentRefNum"),
			"qbo_txn_id": obj.get("Id"),
			"paid_from": mapped_from_qbo(s.account_map, ref_value(obj, "DepositToAccountRef"), s.default_deposit_account_id),
			"payment_method": list_from_qbo(s.payment_method_map, ref_value(obj, "PaymentMethodRef")),
			"applications": [{"doc_type": C.CREDIT_MEMO, "doc_key": r.local_ref("CreditMemo", cm), "amount": amount}
				for cm, amount in credits_of(obj, r)],
			"state": "submitted",
		})

	def lookup_queries(self, record: dict) -> list[str]:
		return []  # no stable key a query can filter on; the deterministic requestid prevents duplicates


def credits_of(obj: dict, r) -> list[tuple[str, object]]:
	"""(QBO credit memo Id, amount refunded from it): the refund's own CreditMemo links (one link: the whole
	refund; more than one: QBO does not say the split, so the refund is split in link order up to each credit
	memo's total) and the CreditMemo lines of the Payments that link this refund (read by id)."""
	out: dict[str, object] = {}
	direct = [str(lt.get("TxnId")) for lt in obj.get("LinkedTxn") or [] if lt.get("TxnType") == "CreditMemo"]
	client = getattr(r, "client", None)
	left = R.money(obj.get("TotalAmt"))
	for n, cm in enumerate(direct):
		amount = left
		if n < len(direct) - 1 and client is not None:
			amount = min(left, R.money(client.read("CreditMemo", cm).get("TotalAmt")))
		out[cm] = amount
		left = R.money(left - amount)
	for lt in obj.get("LinkedTxn") or []:
		if lt.get("TxnType") != "Payment" or client is None:
			continue
		pay = client.read("Payment", str(lt.get("TxnId")))
		lines = pay.get("Line") or []
		if not any(str(x.get("TxnId")) == str(obj.get("Id")) and x.get("TxnType") == "RefundReceipt"
				for line in lines for x in line.get("LinkedTxn") or []):
			continue
		for line in lines:
			for x in line.get("LinkedTxn") or []:
				if x.get("TxnType") == "CreditMemo":
					cm = str(x.get("TxnId"))
					out[cm] = R.money(R.money(out.get(cm, 0)) + R.money(line.get("Amount")))
	return list(out.items())


def _map(ctx: RealmContext, local_type: str, local_id: str, entity: str, obj: dict, now) -> Mapping:
	m = Mapping(realm_id=ctx.realm_id, local_type=local_type, local_id=local_id, qbo_entity=entity,
		qbo_id=str(obj["Id"]), sync_token=obj.get("SyncToken"), base=obj, status=C.ACTIVE, updated_at=now,
		origin=C.ORIGIN_LOCAL)
	ctx.services.store.save_mapping(m)
	return m


def ensure_refund_item(ctx: RealmContext, now) -> str:
	"""The helper service item of a refund's line (found by name or created once, deterministic requestid)."""
	m = ctx.services.store.get_mapping(ctx.realm_id, C.ITEM, ITEM_KEY)
	if m is not None:
		return m.qbo_id
	s = ctx.settings
	account_id = list_to_qbo(s.account_map, REFUND_ACCOUNT_KEY, s.default_income_account_id)
	found = ctx.client.query(f"select * from Item where Name = {quote(ITEM_NAME)}").records
	obj = found[0] if found else ctx.client.create("Item", {"Name": ITEM_NAME, "Type": "Service",
		"IncomeAccountRef": {"value": account_id}}, request_id=request_id(ctx.realm_id, C.ITEM, ITEM_KEY, "create", 0))
	return _map(ctx, C.ITEM, ITEM_KEY, "Item", obj, now).qbo_id


def apply_refund(ctx: RealmContext, refund_id: str, m: Mapping, local: dict, now, generation: int = 0) -> Mapping:
	"""After the RefundReceipt exists in QBO: every credit note it pays out must be consumed there too. A
	credit memo QBO kept the refund's own link to needs nothing; for the others one zero Payment links them
	and the refund (Receive payment, as Intuit documents). Then the refund is re-read, so the mapping's
	snapshot (SyncToken, LinkedTxn) is the one the pull will see: no "edited in QuickBooks" for our own link."""
	if m.status != C.ACTIVE:
		return m
	store = ctx.services.store
	rec = R.normalize(C.REFUND, local)
	remote = ctx.client.read("RefundReceipt", m.qbo_id)
	kept = {str(lt.get("TxnId")) for lt in remote.get("LinkedTxn") or [] if lt.get("TxnType") == "CreditMemo"}
	todo = [(ctx.qbo_ref(C.CREDIT_MEMO, a["doc_key"]), a["amount"]) for a in rec["applications"]]
	todo = [(cm, amount) for cm, amount in todo if cm not in kept]
	key = application_key(refund_id)
	if todo and store.get_mapping(ctx.realm_id, C.PAYMENT, key) is None:
		amount = R.money(sum((a for _, a in todo), R.money(0)))
		pay = ctx.client.create("Payment", {
			"CustomerRef": {"value": ctx.qbo_ref(C.CUSTOMER, rec["customer"])},
			"TotalAmt": R.money(0),
			"TxnDate": rec.get("txn_date"),
			"PrivateNote": f"Refund {refund_id} paid out of the customer's credit (Nexora QBO)",
			"Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": m.qbo_id, "TxnType": "RefundReceipt"}]}]
				+ [{"Amount": a, "LinkedTxn": [{"TxnId": cm, "TxnType": "CreditMemo"}]} for cm, a in todo],
		}, request_id=request_id(ctx.realm_id, C.PAYMENT, key, "create", generation))
		_map(ctx, C.PAYMENT, key, "Payment", pay, now)
		remote = ctx.client.read("RefundReceipt", m.qbo_id)
	spec = RefundReceiptSpec()
	m.sync_token, m.base = remote.get("SyncToken"), remote
	m.remote_hash = R.content_hash(C.REFUND, spec.from_qbo(remote, ctx))
	store.save_mapping(m)
	return m


__all__ = ["APPLICATION_MARK", "NOT_AGAINST_CREDIT_HERE", "NOT_AGAINST_CREDIT_IN_QBO", "NotRefundable",
	"RefundReceiptSpec", "apply_refund", "application_key", "ensure_refund_item", "is_refund_application"]
