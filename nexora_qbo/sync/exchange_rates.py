"""One source of the day's exchange rate per realm, for both books (issue 13: foreign currency ties in both).

Why: a foreign invoice and its payment carry a rate each; the realized exchange gain or loss is the payment's
amount times the difference of the two rates. Each book computes it itself (ERPNext: the Payment Entry's
exchange_gain_loss; QuickBooks: its Exchange Gain or Loss account), so both gains are equal only when both books
hold the same rate for each document. A document pushed from ERPNext carries its rate (ExchangeRate); one made
in QuickBooks takes QuickBooks' rate of its day, and one made in ERPNext takes ERPNext's Currency Exchange of its
day. The realm's `rate_source` decides which table is the truth, and this keeps the other equal to it:

- "erpnext": each Currency Exchange row into the company's currency (from the lookback or the realm's sync
  start date, whichever is earlier, on) is written to
  QuickBooks' rate table (POST /exchangerate, qbo-api.md §9), once per (currency, day, rate): Cursor.seen keeps
  what was written, like the records a pull already applied;
- "qbo": QuickBooks' rates are read (`SELECT * FROM ExchangeRate WHERE SourceCurrencyCode = '…'`, plus
  GET /exchangerate for today when today has no row) and written as Currency Exchange rows where ERPNext has none
  or another rate; a QBO-born foreign document's own rate is written for its date before it is booked.

With QuickBooks as the source, an ERPNext-born foreign document can still carry another rate (typed on the
document, or a Currency Exchange row edited here): it is sent at ERPNext's rate, because the document is booked
at it and QuickBooks then holds the same rate for it, so both books and both exchange gains agree; sending
QuickBooks' rate instead would make QuickBooks' copy disagree with ERPNext's GL. That it departs from the rate
source is made visible, never silent: `check_sent_rate` opens one informational review item naming both rates.

Run at the start of every pull, under the realm lock. Nothing is read or written for a realm whose company has
no foreign currency (no request at all), nor when QuickBooks' preferences say multicurrency is off.
The Ledger methods used are optional (getattr): a ledger without Currency Exchange simply has no rate source.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import preferences as P


def _rate(value) -> Decimal:
	return Decimal(str(value)).normalize()


class ExchangeRates:
	"""The rate-source collaborator (engine services; called by the Puller)."""

	def __init__(self, services):
		self.services = services
		self.ledger = services.ledger
		self.clock = services.clock

	def _currencies(self, ctx) -> list[str]:
		read = getattr(self.ledger, "foreign_currencies", None)
		if read is None:
			return []
		if not P.multicurrency(ctx.settings):
			return []
		return sorted(c for c in read(ctx.company) if c and c != ctx.settings.home_currency)

	def settle(self, ctx, cursor) -> dict[str, int]:
		"""Make the other book's rate table equal to the realm's rate source (see the module docstring)."""
		currencies = self._currencies(ctx)
		if not currencies:
			return {}
		today = self.clock.now().date()
		since = today - timedelta(days=C.RATE_LOOKBACK_DAYS)
		start = ctx.settings.sync_start_date
		if start and start < since:
			since = start  # documents from the go-live on may still be made or paid: their days' rates count
		with audit.operation(C.OUTBOUND if ctx.settings.rate_source != C.RATE_SOURCE_QBO else C.INBOUND):
			if ctx.settings.rate_source == C.RATE_SOURCE_QBO:
				return self._bring_in(ctx, currencies, since, today)
			return self._send_out(ctx, currencies, since, cursor)

	def _send_out(self, ctx, currencies: list[str], since: date, cursor) -> dict[str, int]:
		sent = 0
		for currency, day, rate in self.ledger.exchange_rates(ctx.company, since):
			if currency not in currencies:
				continue
			key = f"{C.RATE_SEEN_PREFIX}{currency}:{day.isoformat()}"
			if cursor.seen.get(key) == str(_rate(rate)):
				continue
			ctx.client.set_exchange_rate(currency, day, _rate(rate))
			cursor.seen[key] = str(_rate(rate))
			sent += 1
		floor = f"{C.RATE_SEEN_PREFIX}"
		for key in [k for k in cursor.seen if k.startswith(floor) and k.rsplit(":", 1)[-1] < since.isoformat()]:
			del cursor.seen[key]  # older than the lookback: never sent again, so no need to remember it
		return {"rates_sent": sent} if sent else {}

	def _bring_in(self, ctx, currencies: list[str], since: date, today: date) -> dict[str, int]:
		brought = 0
		for currency in currencies:
			rows = ctx.client.query_all("ExchangeRate", where=(
				f"SourceCurrencyCode = '{currency}' AND AsOfDate >= '{since.isoformat()}'"))
			days = {}
			for row in rows:
				if row.get("AsOfDate") and row.get("Rate") is not None:
					days[date.fromisoformat(str(row["AsOfDate"])[:10])] = _rate(row["Rate"])
			if today not in days:
				row = ctx.client.exchange_rate(currency, today)
				if row and row.get("Rate") is not None:
					days[today] = _rate(row["Rate"])
			for day, rate in sorted(days.items()):
				brought += self.write_local(ctx, currency, day, rate)
		return {"rates_brought_in": brought} if brought else {}

	def write_local(self, ctx, currency: str, day: date | str, rate) -> int:
		"""QuickBooks' rate of `day` as ERPNext's Currency Exchange row (1 if written, 0 if already equal)."""
		day = date.fromisoformat(str(day)[:10]) if not isinstance(day, date) else day
		have = self.ledger.exchange_rate(ctx.company, currency, day, exact=True)
		if have is not None and _rate(have) == _rate(rate):
			return 0
		self.ledger.set_exchange_rate(ctx.company, currency, day, _rate(rate))
		return 1

	def before_import(self, ctx, record: dict) -> None:
		"""A QBO-born foreign document about to be booked: with QuickBooks as the rate source its rate is the
		day's rate, so ERPNext's Currency Exchange gets it first (a later ERPNext document of that day uses it)."""
		currency = record.get("currency")
		if (ctx.settings.rate_source != C.RATE_SOURCE_QBO or not currency or currency == ctx.settings.home_currency
			or not record.get("txn_date") or getattr(self.ledger, "set_exchange_rate", None) is None):
			return
		rate = record.get("exchange_rate")
		if rate in (None, "", 0) or _rate(rate) == 1:
			return
		self.write_local(ctx, currency, record["txn_date"], rate)

	def check_sent_rate(self, ctx, books, spec, local_id: str, local: dict, resp: dict) -> None:
		"""After a foreign ERPNext-born document was created in QuickBooks with QuickBooks as the rate source:
		QuickBooks' rate for its day (GET /exchangerate, the rate table's own answer) against the rate it was sent
		at. Different: an informational review item in a bookkeeper's words (both books agree; nothing to undo)."""
		currency = local.get("currency")
		day = str(resp.get("TxnDate") or local.get("txn_date") or "")[:10]
		if (ctx.settings.rate_source != C.RATE_SOURCE_QBO or spec.kind != "transaction" or not currency
			or currency == ctx.settings.home_currency or not day):
			return
		sent = resp.get("ExchangeRate") or local.get("exchange_rate")
		if sent in (None, ""):
			return
		from nexora_qbo.qbo import errors as QE

		try:
			row = ctx.client.exchange_rate(currency, date.fromisoformat(day))  # in the document's push operation
		except QE.QBOError:
			return  # the rate table could not be read now; the tie-out still compares both books' rates
		theirs = (row or {}).get("Rate")
		if theirs is None or _rate(theirs) == _rate(sent):
			return
		label = f"{LABELS_OF.get(spec.local_type, spec.qbo_entity)} {local_id}"
		home = ctx.settings.home_currency
		reason = (
			f"{label} was sent at ERPNext's rate {_rate(sent)} (1 {currency} = {_rate(sent)} {home}); QuickBooks' "
			f"rate for {day} is {_rate(theirs)}. QuickBooks is this company's exchange-rate source, but the document "
			f"was booked in ERPNext at {_rate(sent)}, so it went to QuickBooks at the same rate: both books carry "
			f"{_rate(sent)} for it and agree, in {currency} and in {home}. Nothing needs correcting for the books to "
			f"tie. If it should have used QuickBooks' rate, cancel and amend it in ERPNext at {_rate(theirs)}; "
			"otherwise choose \u201cDismiss\u201d once seen.")
		books.open_conflict(ctx, spec, local_id, str(resp.get("Id")), C.KIND_RATE_DIFFERS, reason, local,
			spec.from_qbo(resp, ctx), None, [C.ACTION_DISMISS])


# the document's name in a bookkeeper's words (merge.LABELS would import the merge module into this one)
LABELS_OF = {C.INVOICE: "Sales Invoice", C.CREDIT_MEMO: "Credit Note", C.PAYMENT: "Payment Entry"}

__all__ = ["ExchangeRates"]
