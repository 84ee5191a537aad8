"""Payment Entry (Receive) ⇄ QBO Payment, with partial and multi-invoice application, and credit memo
application by a zero payment. Voided with `update&include=void`."""
from __future__ import annotations

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.base import (
	EntitySpec,
	Resolver,
	drop_none,
	list_from_qbo,
	list_to_qbo,
	mapped_from_qbo,
	ref,
	ref_value,
)
from nexora_qbo.sync.errors import Unresolvable

DEDUCTION_MARK = "#deduction-"  # local key of a deduction's credit memo: "<payment>#deduction-<n>"


def deduction_key(payment_id: str, n: int) -> str:
	return f"{payment_id}{DEDUCTION_MARK}{n}"


def is_deduction_key(local_id: str | None) -> bool:
	return bool(local_id) and DEDUCTION_MARK in str(local_id)


_TXN_TYPE = {C.INVOICE: "Invoice", C.CREDIT_MEMO: "CreditMemo"}
_DOC_TYPE = {"Invoice": C.INVOICE, "CreditMemo": C.CREDIT_MEMO}


def _deposit_to(r: Resolver, rec: dict) -> str | None:
	"""The QBO account a payment is deposited to. Not set locally = QBO's default deposit account (the local
	ledger booked it in the account that stands for that default). A local account the realm does not map is
	never sent as the default: ERPNext has the cash in that account, QBO would put it in Undeposited Funds, and
	the cash per account would differ in silence (issue 13). It is a review item naming the account instead."""
	s = r.settings
	local = rec.get("deposit_account")
	if local and not local.startswith("qbo:") and local not in s.account_map:
		raise Unresolvable(
			f"The payment {rec.get('reference') or ''} of {rec.get('txn_date')} ({rec.get('total')}) was received into the "
			f"ERPNext account \u201c{local}\u201d, which is not mapped to a QuickBooks account, so it was not sent to "
			f"QuickBooks (it would have landed in QuickBooks' default deposit account instead). Map ERPNext account "
			f"\u201c{local}\u201d to a QuickBooks account on the realm's account mapping, then choose "
			f"\u201c{C.ACTION_LABELS[C.ACTION_RETRY]}\u201d.".replace("payment  of", "payment of"))
	return list_to_qbo(s.account_map, local, s.default_deposit_account_id)


class PaymentSpec(EntitySpec):
	local_type = C.PAYMENT
	qbo_entity = "Payment"
	rank = C.RANK[C.PAYMENT]
	kind = "transaction"
	cancel_mode = "void"
	field_keys = {
		"customer": ("CustomerRef",),
		"txn_date": ("TxnDate",),
		"total": ("TotalAmt",),
		"currency": ("CurrencyRef",),
		"exchange_rate": ("ExchangeRate",),
		"reference": ("PaymentRefNum",),
		"deposit_account": ("DepositToAccountRef",),
		"payment_method": ("PaymentMethodRef",),
		"applications": ("Line",),
		"deductions": ("Line",),
	}

	def to_qbo(self, record: dict, r: Resolver) -> dict:
		rec = R.normalize(C.PAYMENT, record)
		s = r.settings
		lines = [
			{
				"Amount": app["amount"],
				"LinkedTxn": [{"TxnId": r.qbo_ref(app["doc_type"], app["doc_key"]), "TxnType": _TXN_TYPE[app["doc_type"]]}],
			}
			for app in rec["applications"]
		]
		# a short-pay deduction is a credit memo (sync/deductions.py created it and set doc_key) applied by
		# this payment: invoice lines = money received + deductions, as ERPNext's Payment Entry allocates
		lines += [
			{"Amount": d["amount"], "LinkedTxn": [{"TxnId": r.qbo_ref(C.CREDIT_MEMO, d["doc_key"]), "TxnType": "CreditMemo"}]}
			for d in rec.get("deductions") or [] if d.get("doc_key")
		]
		body = {
			"CustomerRef": ref(r.qbo_ref(C.CUSTOMER, rec["customer"])),
			"TxnDate": rec.get("txn_date"),
			"TotalAmt": rec["total"],
			"CurrencyRef": ref(rec.get("currency")),
			"ExchangeRate": rec.get("exchange_rate") if rec.get("currency") and rec["currency"] != s.home_currency else None,
			"PaymentRefNum": rec.get("reference"),
			"DepositToAccountRef": ref(_deposit_to(r, rec)),
			"PaymentMethodRef": ref(list_to_qbo(s.payment_method_map, rec.get("payment_method"))),
			"Line": lines,
		}
		return drop_none(body)

	def from_qbo(self, obj: dict, r: Resolver) -> dict:
		s = r.settings
		apps, deductions = [], []
		for line in obj.get("Line") or []:
			for linked in line.get("LinkedTxn") or []:
				doc_type = _DOC_TYPE.get(linked.get("TxnType"))
				if doc_type is None:
					continue  # JournalEntry/Deposit links are outside what we sync
				doc_key = r.local_ref(self._qbo_entity_of(doc_type), str(linked["TxnId"]))
				if doc_type == C.CREDIT_MEMO and is_deduction_key(doc_key):
					deductions.append({"amount": line.get("Amount"), "doc_key": doc_key})
					continue
				apps.append({"doc_type": doc_type, "doc_key": doc_key, "amount": line.get("Amount")})
		customer_id = ref_value(obj, "CustomerRef")
		return R.normalize(
			C.PAYMENT,
			{
				"customer": r.local_ref("Customer", customer_id) if customer_id else None,
				"txn_date": obj.get("TxnDate"),
				"total": obj.get("TotalAmt"),
				"currency": ref_value(obj, "CurrencyRef") or s.home_currency,
				"exchange_rate": obj.get("ExchangeRate") or 1,
				"reference": obj.get("PaymentRefNum"),
				# not content (records.CONTENT_FIELDS): the QBO payment's own number, for the ERPNext reference
				# when QuickBooks has no PaymentRefNum
				"qbo_txn_id": obj.get("Id"),
				"deposit_account": mapped_from_qbo(s.account_map, ref_value(obj, "DepositToAccountRef"), s.default_deposit_account_id),
				"payment_method": list_from_qbo(s.payment_method_map, ref_value(obj, "PaymentMethodRef")),
				"applications": apps,
				"deductions": deductions,
				"unapplied": obj.get("UnappliedAmt"),
				"state": "cancelled" if self.is_voided(obj) else "submitted",
			},
		)

	@staticmethod
	def _qbo_entity_of(doc_type: str) -> str:
		return _TXN_TYPE[doc_type]

	def is_voided(self, obj: dict) -> bool:
		note = str(obj.get("PrivateNote") or "")
		return "voided" in note.lower() and R.money(obj.get("TotalAmt")) == 0
