"""Exchange rates per realm and day (§9 Multicurrency: ExchangeRate = home units per 1 foreign unit).

A rate set through `POST /exchangerate` (or the admin API) for a day wins; otherwise the latest earlier set
rate; otherwise a fixed default table (the sandbox has no market feed).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from . import constants as C
from . import faults as F
from .model import Realm


def default_rate(source: str, target: str) -> Decimal:
	try:
		src = Decimal(C.DEFAULT_RATES_TO_USD[source])
		tgt = Decimal(C.DEFAULT_RATES_TO_USD[target])
	except KeyError:
		raise F.business(f"No exchange rate is known for {source}.", "SourceCurrencyCode") from None
	return (src / tgt).quantize(Decimal("0.000001"))


def rate_for(realm: Realm, source: str, as_of: date) -> Decimal:
	target = realm.home_currency
	if source == target:
		return Decimal("1")
	best = None
	for (cur, day), rate in realm.rates.items():
		if cur == source and day <= as_of and (best is None or day > best[0]):
			best = (day, rate)
	return best[1] if best else default_rate(source, target)


def set_rate(realm: Realm, source: str, as_of: date, rate: Decimal) -> None:
	realm.rates[(source.upper(), as_of)] = rate


def exchange_rate_object(realm: Realm, source: str, as_of: date, meta_time: str) -> dict:
	"""Shape of GET /exchangerate (§9: SourceCurrencyCode, TargetCurrencyCode, Rate, AsOfDate)."""
	return {
		"SourceCurrencyCode": source,
		"TargetCurrencyCode": realm.home_currency,
		"Rate": rate_for(realm, source, as_of),
		"AsOfDate": as_of.isoformat(),
		"domain": "QBO",
		"sparse": False,
		"SyncToken": "0",
		"MetaData": {"LastUpdatedTime": meta_time},
	}


def exchange_rate_objects(realm: Realm, now: datetime) -> list[dict]:
	"""The rows `SELECT * FROM ExchangeRate` answers: one per foreign currency of the company and per day a
	rate was set for it, else one for today (the default rate). Home currency has no row.

	Why per set day: QBO keeps a rate per date (`asofdate`); a WHERE on `AsOfDate` then filters as usual.
	Our choice where undocumented: the order and the days listed (no capture of a multi-row answer)."""
	from .util import fmt_meta_time, pacific_date

	meta = fmt_meta_time(now)
	currencies = {
		str(rec.data.get("Code")) for rec in realm.live("CompanyCurrency") if rec.data.get("Active", True)
	} | {cur for cur, _ in realm.rates}
	currencies.discard(realm.home_currency)
	out = []
	for cur in sorted(currencies):
		days = sorted(day for c, day in realm.rates if c == cur) or [pacific_date(now)]
		out.extend(exchange_rate_object(realm, cur, day, meta) for day in days)
	return out
