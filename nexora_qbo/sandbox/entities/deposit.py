"""Deposit: a bank deposit that moves customer payments out of Undeposited Funds (qbo-api.md §1, §8, §9).

What the model follows:
- QBO's definition (python-quickbooks quickbooks/objects/deposit.py, quoting Intuit): a Deposit records "a
  customer payment, originally held in the Undeposited Funds account, into the Asset Account specified by
  Deposit.DepositToAccountRef" (a line with `LinkedTxn`), and/or "a new direct deposit specified by
  Deposit.Line.DepositLineDetail" (a line with `DepositLineDetail{AccountRef, Entity, ClassRef,
  PaymentMethodRef, CheckNum, TxnType}`). `CashBack{AccountRef, Amount, Memo}` is money taken back out of the
  deposit. `LinkedTxn.TxnLineId` is required for Deposit (quickbooks-api LinkedTxn typing: "Required for
  Deposit and Bill entities").
- §9 Payment: the payment's header `LinkedTxn[{TxnType:"Deposit"}]` appears once it is deposited.
- §1: "A payment that sits in a bank Deposit cannot be voided until that deposit is removed" (a 6000
  ValidationFault here, on void and on delete); Deposit is deletable (`operation=delete`); deleting it
  releases its payments. Deposit has webhooks (§8) and is covered by CDC and queries like any transaction.

Where we had to assume (no capture of these refusals exists):
- A bank fee taken from the deposit is a `DepositLineDetail` line with a NEGATIVE Amount and the fee's
  expense account (what QBO's "Add funds to this deposit" grid accepts); CashBack is supported as well.
  TotalAmt = sum of the lines - CashBack.Amount, and may not be negative.
- A payment line deposits the payment's whole amount (Amount must equal the payment's TotalAmt), the
  payment must sit in Undeposited Funds (its DepositToAccountRef is the account of sub-type
  UndepositedFunds) and be in the deposit's currency, and a payment is in at most one deposit.
- DepositToAccountRef must be a Bank or Other Current Asset account other than Undeposited Funds itself.
- While a payment is deposited, an update that changes its TotalAmt or DepositToAccountRef is refused like
  its void.
- Only TxnType "Payment" is modelled for linked lines (QBO also deposits SalesReceipts, which we do not sync).
"""

from __future__ import annotations

from decimal import Decimal

from .. import faults as F
from ..util import money, pacific_date, to_decimal
from .base import EntitySpec, currency_ref
from .sales import parse_txn_date

ZERO = Decimal("0")
UNDEPOSITED_SUB_TYPE = "UndepositedFunds"
DEPOSIT_TO_TYPES = ("Bank", "Other Current Asset")


def is_undeposited_funds(realm, account_id) -> bool:
	acc = realm.get("Account", str(account_id or ""))
	return bool(acc and acc.data.get("AccountSubType") == UNDEPOSITED_SUB_TYPE)


def linked_payments(data: dict | None) -> list[str]:
	out = []
	for line in (data or {}).get("Line") or []:
		for link in line.get("LinkedTxn") or []:
			if link.get("TxnType") == "Payment":
				out.append(str(link.get("TxnId")))
	return out


def holding_deposit(realm, payment_id: str, exclude: str | None = None):
	"""The live deposit that holds this payment, if any."""
	for dep in realm.live("Deposit"):
		if dep.id != exclude and str(payment_id) in linked_payments(dep.data):
			return dep
	return None


def refuse_if_deposited(realm, payment_id: str, what: str) -> None:
	"""§1: a deposited payment cannot be voided (or deleted) until its deposit is removed."""
	dep = holding_deposit(realm, payment_id)
	if dep is not None:
		raise F.business(
			f"This payment is part of deposit {dep.id}. Remove it from the deposit (or delete the deposit) "
			f"before you {what} it.",
			"Id",
		)


def deposit_links(realm, payment_id: str) -> list[dict]:
	"""The payment's header LinkedTxn entries for the deposit that holds it (§9 Payment)."""
	dep = holding_deposit(realm, payment_id)
	return [{"TxnId": dep.id, "TxnType": "Deposit"}] if dep is not None else []


class DepositSpec(EntitySpec):
	name = "Deposit"
	deletable = True

	def prepare(self, realm, data, body, old, now):
		to_ref = data.get("DepositToAccountRef")
		if not isinstance(to_ref, dict) or not to_ref.get("value"):
			raise F.required("DepositToAccountRef")
		bank = realm.get("Account", str(to_ref["value"]))
		if bank is None:
			raise F.not_found()
		if bank.data.get("AccountType") not in DEPOSIT_TO_TYPES or is_undeposited_funds(realm, bank.id):
			raise F.business("You can only deposit to a bank or other current asset account.", "DepositToAccountRef")
		if not data.get("TxnDate"):
			data["TxnDate"] = pacific_date(now).isoformat()
		data["TxnDate"] = parse_txn_date(data["TxnDate"]).isoformat()
		cur = (data.get("CurrencyRef") or {}).get("value") or realm.home_currency
		data["CurrencyRef"] = currency_ref(cur)
		raw_lines = data.get("Line") or []
		if not raw_lines:
			raise F.required("Line")
		own_id = old.id if old else None
		lines, total, seen = [], ZERO, set()
		for n, raw in enumerate(raw_lines, start=1):
			ln = dict(raw)
			amount = to_decimal(ln.get("Amount"))
			if amount is None:
				raise F.required("Line.Amount")
			amount = money(amount)
			links = ln.get("LinkedTxn") or []
			if links:
				ln["LinkedTxn"] = [self._payment_link(realm, link, amount, cur, own_id, seen) for link in links[:1]]
				if len(links) > 1:
					raise F.business("A deposit line links one transaction.", "Line.LinkedTxn")
				ln.pop("DetailType", None)
				ln.pop("DepositLineDetail", None)
			else:
				detail = ln.get("DepositLineDetail")
				if not isinstance(detail, dict) or not (detail.get("AccountRef") or {}).get("value"):
					raise F.required("Line.DepositLineDetail.AccountRef")
				if is_undeposited_funds(realm, detail["AccountRef"]["value"]):
					raise F.business("Undeposited Funds payments are deposited by linking the payment.",
						"Line.DepositLineDetail.AccountRef")
				ln["DetailType"] = "DepositLineDetail"
			ln["Id"] = str(n)
			ln["LineNum"] = n
			ln["Amount"] = amount
			total += amount
			lines.append(ln)
		cash_back = data.get("CashBack")
		if cash_back:
			if not (cash_back.get("AccountRef") or {}).get("value"):
				raise F.required("CashBack.AccountRef")
			back = money(to_decimal(cash_back.get("Amount"), ZERO))
			if back < 0:
				raise F.business("Cash back can't be negative.", "CashBack.Amount")
			cash_back["Amount"] = back
			total -= back
		total = money(total)
		if total < 0:
			raise F.business("The deposit total can't be negative.", "TotalAmt")
		data["Line"] = lines
		data["TotalAmt"] = total
		data["ExchangeRate"] = Decimal("1")
		data["HomeTotalAmt"] = total
		return {}

	def _payment_link(self, realm, link: dict, amount: Decimal, cur: str, own_id, seen: set) -> dict:
		if link.get("TxnType") != "Payment":
			raise F.business(f"A deposit can't be linked to a {link.get('TxnType')}.", "Line.LinkedTxn.TxnType")
		pid = str(link.get("TxnId") or "")
		pay = realm.get("Payment", pid)
		if pay is None:
			raise F.not_found()
		if pay.extra.get("voided"):
			raise F.business(f"Payment {pid} is voided and can't be deposited.", "Line.LinkedTxn")
		if pid in seen:
			raise F.business(f"Payment {pid} is on this deposit twice.", "Line.LinkedTxn")
		seen.add(pid)
		if not is_undeposited_funds(realm, (pay.data.get("DepositToAccountRef") or {}).get("value")):
			raise F.business(f"Payment {pid} is not in Undeposited Funds, so it can't be deposited.", "Line.LinkedTxn")
		other = holding_deposit(realm, pid, exclude=own_id)
		if other is not None:
			raise F.business(f"Payment {pid} is already part of deposit {other.id}.", "Line.LinkedTxn")
		if (pay.data.get("CurrencyRef") or {}).get("value") != cur:
			raise F.business(f"Payment {pid} is in another currency.", "Line.LinkedTxn")
		if amount != money(to_decimal(pay.data.get("TotalAmt"), ZERO)):
			raise F.business(f"The amount deposited for payment {pid} ({amount}) must equal the payment amount "
				f"({pay.data.get('TotalAmt')}).", "Line.Amount")
		return {"TxnId": pid, "TxnType": "Payment", "TxnLineId": "0"}

	def after_write(self, realm, record, old_data, ctx):
		_touch_payments(realm, set(linked_payments(old_data)) ^ set(linked_payments(record.data)), ctx)

	def after_delete(self, realm, record, ctx):
		_touch_payments(realm, set(linked_payments(record.data)), ctx)


def _touch_payments(realm, ids, ctx) -> None:
	"""A payment put into or taken out of a deposit changes (its LinkedTxn): SyncToken and time move (§1)."""
	for pid in sorted(ids):
		pay = realm.get("Payment", pid)
		if pay is not None:
			ctx.bump(pay)


def account_balance(realm, account_id: str) -> Decimal:
	"""What the sandbox shows as Account.CurrentBalance for a bank or Undeposited Funds account: payments
	received into it, plus deposits into it, minus the deposited payments that left Undeposited Funds.
	(Assumed: QBO's CurrentBalance of a balance-sheet account is its running balance from transactions; only
	the transactions the sandbox models, payments and deposits, are counted.)"""
	total = ZERO
	for pay in realm.live("Payment"):
		if not pay.extra.get("voided") and str((pay.data.get("DepositToAccountRef") or {}).get("value")) == str(account_id):
			total += money(to_decimal(pay.data.get("TotalAmt"), ZERO))
	for dep in realm.live("Deposit"):
		if str((dep.data.get("DepositToAccountRef") or {}).get("value")) == str(account_id):
			total += money(to_decimal(dep.data.get("TotalAmt"), ZERO))
		for pid in linked_payments(dep.data):
			pay = realm.get("Payment", pid)
			if pay is not None and str((pay.data.get("DepositToAccountRef") or {}).get("value")) == str(account_id):
				total -= money(to_decimal(pay.data.get("TotalAmt"), ZERO))
	return money(total)
