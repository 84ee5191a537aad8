"""Payment: applies money (and credit memos) to invoices (qbo-api.md §1, §9 Payment).

Creating, changing, voiding or deleting a payment recomputes every linked Invoice/CreditMemo Balance and
LinkedTxn and bumps *their* SyncToken and LastUpdatedTime — the behaviour that makes a cached invoice
SyncToken stale (§1, gh:LanternOps/breeze#4624).
"""

from __future__ import annotations

from decimal import Decimal

from .. import faults as F
from ..util import money, pacific_date, to_decimal
from .base import EntitySpec, currency_ref
from .deposit import deposit_links, holding_deposit, refuse_if_deposited
from .journal import open_amount
from .sales import applications, parse_txn_date, refresh_balance, txn_currency

ZERO = Decimal("0")
LINK_TYPES = ("Invoice", "CreditMemo", "JournalEntry")  # a journal entry's A/R debit is a charge (journal.py)


def _name_value(name: str, value: str) -> dict:
	"""One JAXB-serialised NameValue, as QBO's JSON shows LineEx (airbyte expected_records Payment 101)."""
	return {
		"name": "{http://schema.intuit.com/finance/v3}NameValue",
		"declaredType": "com.intuit.schema.finance.v3.NameValue",
		"scope": "javax.xml.bind.JAXBElement$GlobalScope",
		"value": {"Name": name, "Value": value},
		"nil": False,
		"globalScope": True,
		"typeSubstituted": False,
	}


def name_values(txn_id: str, open_balance, doc_number) -> dict:
	"""Read-only LineEx: txnId, txnOpenBalance (before this payment), txnReferenceNumber (fx payment XML)."""
	items = [_name_value("txnId", txn_id), _name_value("txnOpenBalance", f"{money(open_balance):.2f}")]
	if doc_number:
		items.append(_name_value("txnReferenceNumber", str(doc_number)))
	return {"any": items}


def linked_targets(data: dict | None) -> set[tuple[str, str]]:
	out = set()
	for line in (data or {}).get("Line", []) or []:
		for link in line.get("LinkedTxn", []) or []:
			if link.get("TxnType") in LINK_TYPES:
				out.add((link["TxnType"], str(link.get("TxnId"))))
	return out


class PaymentSpec(EntitySpec):
	name = "Payment"
	deletable = True
	void_style = "update"

	def prepare(self, realm, data, body, old, now):
		customer_ref = data.get("CustomerRef")
		if not isinstance(customer_ref, dict) or not customer_ref.get("value"):
			raise F.required("CustomerRef")
		customer = realm.get("Customer", str(customer_ref["value"]))
		if customer is None:
			raise F.not_found()
		if data.get("TotalAmt") is None:
			raise F.required("TotalAmt")
		voided = bool(old.extra.get("voided")) if old else False
		total = money(to_decimal(data["TotalAmt"], ZERO))
		if old is not None and not voided:
			_keep_while_deposited(realm, old, data, total)
		if total < 0:
			raise F.business("TotalAmt can't be negative.", "TotalAmt")
		if not data.get("TxnDate"):
			data["TxnDate"] = pacific_date(now).isoformat()
		data["TxnDate"] = parse_txn_date(data["TxnDate"]).isoformat()
		cur, rate = txn_currency(realm, data, body, old, customer)
		data["CurrencyRef"] = currency_ref(cur)
		data["ExchangeRate"] = rate
		if "DepositToAccountRef" not in data and realm.get("Account", "4") is not None:
			data["DepositToAccountRef"] = {"value": "4"}  # Undeposited Funds (§9 Payment)
		data.setdefault("ProcessPayment", False)
		lines = []
		applied = ZERO
		own_id = old.id if old else None
		exchange: list[dict] = []
		for raw in data.get("Line") or []:
			ln = dict(raw)
			amount = to_decimal(ln.get("Amount"))
			if amount is None:
				raise F.required("Line.Amount")
			amount = money(amount)
			if amount < 0:
				raise F.business("A payment line amount can't be negative.", "Line.Amount")
			links = ln.get("LinkedTxn") or []
			if not links:
				raise F.required("Line.LinkedTxn")
			clean_links = []
			for link in links:
				txn_type = link.get("TxnType")
				txn_id = str(link.get("TxnId") or "")
				if txn_type not in LINK_TYPES:
					raise F.business(f"A payment can't be linked to a {txn_type}.", "Line.LinkedTxn.TxnType")
				target = realm.get(txn_type, txn_id)
				if target is None:
					raise F.not_found()
				owners = [target.data.get("CustomerRef", {}).get("value")] if txn_type != "JournalEntry" else list(
					target.extra.get("ar") or {})
				if not any(_pays_for(realm, customer.id, owner) for owner in owners):
					raise F.business(f"{txn_type} {txn_id} belongs to another customer.", "Line.LinkedTxn")
				if target.data.get("CurrencyRef", {}).get("value") != cur:
					raise F.business(f"{txn_type} {txn_id} is in another currency.", "Line.LinkedTxn")
				others = sum(
					(a for _, a in applications(realm, txn_type, txn_id, exclude_payment=own_id)), ZERO
				)
				open_balance = money(to_decimal(target.data.get("TotalAmt"), ZERO) - others)
				if txn_type == "JournalEntry":  # only its A/R debit for this customer is open (journal.py)
					open_balance = open_amount(realm, target, customer.id, exclude_payment=own_id)
				if target.extra.get("voided"):
					open_balance = money(ZERO)
				if amount > open_balance and not voided:
					raise F.business(
						f"The amount applied to {txn_type} {txn_id} ({amount}) is more than its open balance "
						f"({open_balance}).",
						"Line.Amount",
					)
				clean_links.append({"TxnId": txn_id, "TxnType": txn_type})
				line_ex = name_values(txn_id, open_balance, target.data.get("DocNumber"))
				if not voided:
					exchange.append(home_relief(target, txn_type, txn_id, open_balance, amount))
			ln["LinkedTxn"] = clean_links
			ln["LineEx"] = line_ex
			ln["Amount"] = amount if not voided else money(ZERO)
			sign = -1 if clean_links[0]["TxnType"] == "CreditMemo" else 1
			applied += sign * ln["Amount"]
			lines.append(ln)
		if voided:
			total = money(ZERO)
		unapplied = money(total - applied)
		if unapplied < 0:
			raise F.business(
				f"The amount applied ({applied}) is more than the payment amount ({total}).", "TotalAmt"
			)
		data["Line"] = lines
		data["TotalAmt"] = total
		data["UnappliedAmt"] = unapplied
		data["HomeTotalAmt"] = money(total * rate)
		return {"voided": voided, **realized_exchange(exchange, rate, unapplied, data["HomeTotalAmt"])}

	def render(self, realm, record):
		"""Header LinkedTxn: the deposit that holds the payment (§9 Payment), derived like Customer.Balance."""
		links = deposit_links(realm, record.id)
		if not links and not record.data.get("LinkedTxn"):
			return record.data
		out = dict(record.data)
		out["LinkedTxn"] = links
		return out

	def before_delete(self, realm, record):
		refuse_if_deposited(realm, record.id, "delete")

	def after_write(self, realm, record, old_data, ctx):
		touch_targets(realm, linked_targets(old_data) | linked_targets(record.data), ctx)

	def after_delete(self, realm, record, ctx):
		touch_targets(realm, linked_targets(record.data), ctx)

	def void(self, realm, record, ctx):
		"""`POST /payment?operation=update&include=void`: TotalAmt 0, PrivateNote 'Voided' (§1)."""
		refuse_if_deposited(realm, record.id, "void")
		old_links = linked_targets(record.data)
		record.extra["voided"] = True
		data = record.data
		for ln in data.get("Line", []):
			ln["Amount"] = money(ZERO)
		data["TotalAmt"] = money(ZERO)
		data["UnappliedAmt"] = money(ZERO)
		data["HomeTotalAmt"] = money(ZERO)
		data["PrivateNote"] = "Voided"
		record.extra.update(realized_exchange([], Decimal("1"), ZERO, money(ZERO)))
		touch_targets(realm, old_links, ctx)


def _keep_while_deposited(realm, old, data, total) -> None:
	"""A deposited payment keeps its amount and account until its deposit is removed (deposit.py)."""
	if holding_deposit(realm, old.id) is None:
		return
	same_total = total == money(to_decimal(old.data.get("TotalAmt"), ZERO))
	same_account = (data.get("DepositToAccountRef") or {}).get("value") == (old.data.get("DepositToAccountRef") or {}).get("value")
	if not (same_total and same_account):
		refuse_if_deposited(realm, old.id, "change the amount or account of")


def home_relief(target, txn_type: str, txn_id: str, open_balance, amount) -> dict:
	"""What one payment line takes off the linked document in home currency, at the DOCUMENT's rate: its
	HomeBalance before the line less its HomeBalance after (HomeBalance = round(Balance x ExchangeRate), as
	refresh_balance keeps it), so the lines of all payments together relieve exactly its HomeTotalAmt."""
	doc_rate = to_decimal(target.data.get("ExchangeRate"), Decimal("1"))
	before = money(money(open_balance) * doc_rate)
	after = money(money(open_balance - amount) * doc_rate)
	return {"TxnType": txn_type, "TxnId": txn_id, "Amount": money(amount), "TxnExchangeRate": doc_rate,
		"HomeRelieved": money(before - after)}


def realized_exchange(lines: list[dict], rate, unapplied, home_total) -> dict:
	"""QBO's realized exchange gain (+) or loss (-) of a payment, in home currency: what the payment is worth
	at its own rate (HomeTotalAmt) less the home amount it takes off A/R (each invoice line's relief, less each
	credit memo line's, plus the unapplied money at the payment's rate). QBO posts it to its "Exchange Gain or
	Loss" account; the sandbox exposes it through the admin API (GET /_sandbox/realms/<id>/exchangegains).

	Assumed where qbo-api.md is silent (§9 Multicurrency names ExchangeRate, HomeTotalAmt and HomeBalance but no
	capture shows the gain): each line relieves the linked document's HomeBalance change (home_relief), and the
	gain is the whole payment's difference, rounded once."""
	relieved = sum(((ln["HomeRelieved"] if ln["TxnType"] == "Invoice" else -ln["HomeRelieved"]) for ln in lines), ZERO)
	relieved += money(money(unapplied) * Decimal(str(rate)))
	return {"exchange_lines": lines, "exchange_gain_loss": money(home_total - relieved)}


def touch_targets(realm, targets, ctx) -> None:
	for txn_type, txn_id in sorted(targets):
		rec = realm.get(txn_type, txn_id)
		if txn_type == "JournalEntry":  # no Balance/LinkedTxn of its own to refresh (journal.py)
			continue
		if rec is not None and refresh_balance(realm, rec):
			ctx.bump(rec)


def _pays_for(realm, payer_id: str, owner_id: str | None) -> bool:
	"""A customer pays its own transactions and those of its jobs (sub-customers, any level): QBO's receive
	payment for a parent lists the jobs' open invoices (assumed from §9 Customer sub-customers; no capture)."""
	seen = set()
	while owner_id and owner_id not in seen:
		if owner_id == payer_id:
			return True
		seen.add(owner_id)
		owner = realm.get("Customer", owner_id)
		owner_id = ((owner.data.get("ParentRef") or {}).get("value") if owner else None)
	return False
