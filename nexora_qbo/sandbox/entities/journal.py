"""JournalEntry: debits and credits to accounts, an A/R line naming its customer (qbo-api.md §1 lists it as
deletable and with webhooks; the rest of this model comes from the sources named here, because qbo-api.md
says nothing else about it).

Shape [repo:ej2/python-quickbooks:quickbooks/objects/journalentry.py]: `Line[]` of DetailType
"JournalEntryLineDetail", each with `Amount` (positive) and `JournalEntryLineDetail{PostingType
"Debit"|"Credit", AccountRef, Entity{Type, EntityRef}}`, plus `TxnDate`, `DocNumber`, `PrivateNote`,
`CurrencyRef`/`ExchangeRate`, `Adjustment`, `TotalAmt` (read-only: the sum of the debits).

What QBO rejects, this rejects: debits that do not equal credits (QuickBooks requires a balanced journal,
Intuit's QBD JournalEntryAdd reference: "so long as the total monetary amount from the credits equals the
total monetary amount from the debits"); a line posting to Accounts Receivable without a customer
(QuickBooks: "When you use Accounts Receivable, you must choose a customer in the Name field"; QBD/Conductor:
"any line that posts to Accounts Receivable or Accounts Payable must include the related customer or vendor
reference"). ASSUMED: both refusals are business validation 6000 with those words (the exact QBO Online code
and text were not found in a capture).

Effect on A/R. A Debit line to an Accounts Receivable account with a Customer entity is a charge of that
customer: it raises the customer's Balance and is open until a Payment line links the journal entry
(`LinkedTxn{TxnType:"JournalEntry"}`). That a Payment may link a JournalEntry is reported by code, not by
Intuit's reference: qbo-api.md §9 (a real mixed payment with Invoice + CreditMemo + JournalEntry lines), and
public integrations that build `Line[{LinkedTxn:[{TxnType:"JournalEntry"}]}, {LinkedTxn:[{TxnType:
"CreditMemo"}]}]` zero payments; QBD's ReceivePayment applies to "general journal debits". ASSUMED therefore:
the journal entry's open amount for one customer is its A/R debits for that customer less its A/R credits
for them less the Payment lines linking it; a credit line to A/R lowers the customer's Balance but is not
itself linkable by a Payment (not modelled). QBO shows no Balance field on a JournalEntry in the sources, so
the open amount is kept internally (`open_amount`), not rendered. Home currency only (a foreign-currency
journal entry is refused: not modelled).
"""

from __future__ import annotations

from decimal import Decimal

from .. import faults as F
from ..util import money, pacific_date, to_decimal
from .base import EntitySpec, currency_ref
from .sales import applications, parse_txn_date

ZERO = Decimal("0")
AR_TYPE = "Accounts Receivable"
AR_CUSTOMER_REQUIRED = "When you use Accounts Receivable, you must choose a customer in the Name field."
UNBALANCED = "Journal Entry must have equal debits and credits."


def ar_amounts(realm, record) -> dict[str, Decimal]:
	"""customer id -> signed A/R amount of this journal entry (debit +, credit -)."""
	return dict(record.extra.get("ar") or {})


def open_amount(realm, record, customer_id: str, exclude_payment: str | None = None) -> Decimal:
	"""What a Payment of `customer_id` may still link of this journal entry: its A/R debit net for that
	customer less the Payment lines already linking it (never below zero)."""
	charge = ar_amounts(realm, record).get(str(customer_id), ZERO)
	paid = sum((a for _, a in applications(realm, "JournalEntry", record.id, exclude_payment=exclude_payment)), ZERO)
	return money(max(charge - paid, ZERO)) if charge > 0 else money(ZERO)


def customer_balance(realm, customer_id: str) -> Decimal:
	"""The journal entries' part of a customer's Balance: A/R debits less A/R credits less what Payments
	linked of them."""
	total = ZERO
	for je in realm.live("JournalEntry"):
		amount = ar_amounts(realm, je).get(str(customer_id))
		if amount is None:
			continue
		paid = sum((a for _, a in applications(realm, "JournalEntry", je.id)), ZERO)
		total += amount - paid
	return money(total)


class JournalEntrySpec(EntitySpec):
	name = "JournalEntry"
	deletable = True
	keep_on_full_update = ("DocNumber",)

	def defaults(self, realm):
		return {"Adjustment": False}

	def prepare(self, realm, data, body, old, now):
		raw = data.get("Line")
		if not isinstance(raw, list) or not raw:
			raise F.required("Line")
		if not data.get("TxnDate"):
			data["TxnDate"] = pacific_date(now).isoformat()
		data["TxnDate"] = parse_txn_date(data["TxnDate"]).isoformat()
		self.apply_defaults(realm, data)
		cur = str((data.get("CurrencyRef") or {}).get("value") or realm.home_currency).upper()
		if cur != realm.home_currency:
			raise F.business("Journal entries in a foreign currency are not modelled by this sandbox.", "CurrencyRef")
		data["CurrencyRef"] = currency_ref(cur)
		data["ExchangeRate"] = Decimal("1")
		debits = credits = ZERO
		ar: dict[str, Decimal] = {}
		lines = []
		for n, src in enumerate(raw, start=1):
			ln = dict(src)
			if ln.get("DetailType") != "JournalEntryLineDetail":
				raise F.business(f"Unsupported line DetailType {ln.get('DetailType')}", "Line.DetailType")
			amount = to_decimal(ln.get("Amount"))
			if amount is None:
				raise F.required("Line.Amount")
			amount = money(amount)
			if amount < 0:
				raise F.business("A journal entry line amount can't be negative.", "Line.Amount")
			detail = dict(ln.get("JournalEntryLineDetail") or {})
			posting = detail.get("PostingType")
			if posting not in ("Debit", "Credit"):
				raise F.required("Line.JournalEntryLineDetail.PostingType")
			acct_ref = detail.get("AccountRef") or {}
			if not acct_ref.get("value"):
				raise F.required("Line.JournalEntryLineDetail.AccountRef")
			account = realm.get("Account", str(acct_ref["value"]))
			if account is None or account.data.get("Active") is False:
				raise F.not_found()
			detail["AccountRef"] = {"value": account.id, "name": account.data.get("Name")}
			entity = detail.get("Entity") or {}
			entity_ref = (entity.get("EntityRef") or {}).get("value")
			customer = None
			if entity_ref:
				etype = entity.get("Type") or "Customer"
				target = realm.get(etype, str(entity_ref))
				if target is None:
					raise F.not_found()
				detail["Entity"] = {"Type": etype, "EntityRef": {"value": target.id,
					"name": target.data.get("DisplayName")}}
				customer = target if etype == "Customer" else None
			if account.data.get("AccountType") == AR_TYPE:
				if customer is None:
					raise F.business(AR_CUSTOMER_REQUIRED, "Line.JournalEntryLineDetail.Entity")
				signed = amount if posting == "Debit" else -amount
				ar[customer.id] = money(ar.get(customer.id, ZERO) + signed)
			if posting == "Debit":
				debits += amount
			else:
				credits += amount
			ln["Id"] = str(ln.get("Id") or n)
			ln["Amount"] = amount
			ln["JournalEntryLineDetail"] = detail
			lines.append(ln)
		if money(debits) != money(credits):
			raise F.business(f"{UNBALANCED} Debits {money(debits)}, credits {money(credits)}.", "Line.Amount")
		if old is not None:
			for cust, charge in ar.items():
				paid = sum((a for _, a in applications(realm, self.name, old.id)), ZERO)
				if paid > max(charge, ZERO):
					raise F.business(f"The new amount is less than the payments already linked ({paid}). "
						"Unlink payments first.", "Line.Amount")
		if not data.get("DocNumber") and old is not None and old.data.get("DocNumber"):
			data["DocNumber"] = old.data["DocNumber"]
		data["Line"] = lines
		data["TotalAmt"] = money(debits)
		data["HomeTotalAmt"] = money(debits)
		return {"ar": ar}

	def before_delete(self, realm, record):
		if applications(realm, self.name, record.id):
			raise F.business("This journal entry is linked to payments. Unlink them before deleting it.", "LinkedTxn")
