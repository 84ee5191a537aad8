"""Bank deposit ⇄ QBO Deposit: received payments leave Undeposited Funds for the bank, fees included.

Why it is synced: QBO's bookkeeper groups the payments sitting in Undeposited Funds into the one Bank Deposit
the bank statement shows (net of the card or bank fee). Without it, ERPNext would keep that money in its
Undeposited Funds account while QBO shows it in the bank: both books would show different cash in the same
account (issue 13, "where the money sits").

The canonical record (records.py "deposit") names the local payments it deposits (each one's whole amount,
as QBO deposits a payment) and its other lines signed as QBO has them: a fee is a negative line on the fee's
account, QBO's CashBack comes back as a negative line of its account (ERPNext books both the same way: money
that reached another account instead of the bank). It goes to QBO as Deposit lines that link the QBO payments
(`LinkedTxn [{TxnId, TxnType: "Payment", TxnLineId: "0"}]`) and `DepositLineDetail` lines for the fees.

Accounts are never guessed: a bank or fee account the realm does not map stops the deposit with a review item
that names the account and the next step (map it, then choose \u201cRetry\u201d on the item), on the way in and on the way out.

QBO is the official book for where cash sits, and a deposit changes no receivable: a bookkeeper's later edit or
deletion of a deposit in QBO is FOLLOWED here (`follows_qbo`; the Frappe ledger cancels and amends its
Journal Entry), instead of becoming a review item per edit as an invoice's does.
"""
from __future__ import annotations

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.entities.base import EntitySpec, Resolver, drop_none, mapped_from_qbo, ref, ref_value
from nexora_qbo.sync.errors import Unresolvable

_NEXT_STEP = (f"Map it on the realm's account mapping (ERPNext account \u2194 QuickBooks account), then choose "
	f"\u201c{C.ACTION_LABELS[C.ACTION_RETRY]}\u201d.")


def _qbo_account(r: Resolver, local: str | None, what: str, record: dict) -> str:
	"""The QBO Id of a local account, or Unresolvable in a bookkeeper's words (never a default account)."""
	if local and local.startswith("qbo:"):
		return local[4:]
	qid = r.settings.account_map.get(local) if local else None
	if not qid:
		raise Unresolvable(
			f"The bank deposit of {record.get('txn_date')} ({record.get('total')}) uses the ERPNext account "
			f"\u201c{local or '(none)'}\u201d as its {what}, which is not mapped to a QuickBooks account, so it was not "
			f"sent to QuickBooks. {_NEXT_STEP}")
	return str(qid)


def _local_account(r: Resolver, qbo_id: str | None, what: str, obj: dict) -> str:
	local = mapped_from_qbo(r.settings.account_map, qbo_id)
	if not local or local.startswith("qbo:"):
		raise Unresolvable(
			f"QuickBooks deposit {obj.get('Id')} of {obj.get('TxnDate')} ({obj.get('TotalAmt')}) uses QuickBooks "
			f"account {qbo_id} as its {what}, which is not mapped to an ERPNext account, so ERPNext cannot move the "
			f"money there. {_NEXT_STEP}")
	return local


class DepositSpec(EntitySpec):
	local_type = C.DEPOSIT
	qbo_entity = "Deposit"
	rank = C.RANK[C.DEPOSIT]
	kind = "transaction"
	cancel_mode = "delete"  # QBO deposits are deleted, not voided (qbo-api.md §1 DeleteMixin list)
	follows_qbo = True  # a QBO edit or deletion is followed here (module docstring)
	field_keys = {
		"txn_date": ("TxnDate",),
		"bank_account": ("DepositToAccountRef",),
		"currency": ("CurrencyRef",),
		"payments": ("Line",),
		"fees": ("Line",),
		"total": ("Line",),
	}

	def to_qbo(self, record: dict, r: Resolver) -> dict:
		rec = R.normalize(C.DEPOSIT, record)
		lines = [
			{"Amount": p["amount"], "LinkedTxn": [{"TxnId": r.qbo_ref(C.PAYMENT, p["doc_key"]), "TxnType": "Payment",
				"TxnLineId": "0"}]}
			for p in rec["payments"]
		]
		lines += [
			{"Amount": f["amount"], "DetailType": "DepositLineDetail",
				"DepositLineDetail": {"AccountRef": ref(_qbo_account(r, f["account"], "fee account", rec))}}
			for f in rec["fees"]
		]
		return drop_none({
			"TxnDate": rec.get("txn_date"),
			"DepositToAccountRef": ref(_qbo_account(r, rec.get("bank_account"), "bank account", rec)),
			"CurrencyRef": ref(rec.get("currency")),
			"PrivateNote": rec.get("memo"),
			"Line": lines,
		})

	def from_qbo(self, obj: dict, r: Resolver) -> dict:
		payments, fees = [], []
		for line in obj.get("Line") or []:
			links = [lt for lt in line.get("LinkedTxn") or [] if lt.get("TxnType") == "Payment"]
			if links:
				payments.append({"doc_key": r.local_ref("Payment", str(links[0]["TxnId"])), "amount": line.get("Amount")})
			elif line.get("LinkedTxn"):
				raise Unresolvable(
					f"QuickBooks deposit {obj.get('Id')} deposits a {line['LinkedTxn'][0].get('TxnType')}, which the sync "
					f"does not bring into ERPNext. Book that deposit by hand in ERPNext, then choose "
					f"\u201c{C.ACTION_LABELS[C.ACTION_DISMISS]}\u201d.")
			else:
				acc = ref_value(line.get("DepositLineDetail") or {}, "AccountRef")
				fees.append({"account": _local_account(r, acc, "fee or other account", obj), "amount": line.get("Amount")})
		back = obj.get("CashBack") or {}
		if R.money(back.get("Amount")):
			fees.append({"account": _local_account(r, ref_value(back, "AccountRef"), "cash back account", obj),
				"amount": -R.money(back.get("Amount"))})
		return R.normalize(C.DEPOSIT, {
			"txn_date": obj.get("TxnDate"),
			"bank_account": _local_account(r, ref_value(obj, "DepositToAccountRef"), "bank account", obj),
			"currency": ref_value(obj, "CurrencyRef") or r.settings.home_currency,
			"payments": payments,
			"fees": fees,
			"memo": obj.get("PrivateNote"),
			"qbo_txn_id": obj.get("Id"),
			"state": "submitted",
		})

	def local_view(self, record: dict, r: Resolver) -> dict:
		if record.get("currency"):
			return record
		return {**record, "currency": r.settings.home_currency}
