"""Small helpers shared by the sandbox: Decimal money, Pacific timestamps, JSON with Decimal numbers.

Why a hand-written JSON writer: the stdlib encoder cannot emit a Decimal as a JSON *number* without going
through float, and QBO amounts (`100.00`, `337.5`) must round-trip exactly (contracts.md "Money is Decimal").
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from . import constants as C

PACIFIC = ZoneInfo(C.PACIFIC_TZ)
CENT = Decimal("0.01")


def money(value) -> Decimal:
	"""Half-up to 2 dp (contracts.md); accepts Decimal, int, str."""
	if isinstance(value, Decimal):
		d = value
	else:
		d = Decimal(str(value))
	return d.quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value, default=None):
	if value is None or isinstance(value, bool):
		return default
	try:
		return value if isinstance(value, Decimal) else Decimal(str(value))
	except (InvalidOperation, ValueError):
		return default


def pacific(dt: datetime) -> datetime:
	return dt.astimezone(PACIFIC)


def fmt_meta_time(dt: datetime) -> str:
	"""MetaData times: whole seconds with the Pacific offset, e.g. 2020-09-29T05:58:07-07:00 (§2)."""
	return pacific(dt).replace(microsecond=0).isoformat()


def fmt_response_time(dt: datetime) -> str:
	"""Envelope `time`: milliseconds and Pacific offset, e.g. 2020-09-29T06:02:34.562-07:00 (§0)."""
	return pacific(dt).isoformat(timespec="milliseconds")


def pacific_date(dt: datetime) -> date:
	return pacific(dt).date()


def parse_datetime(text: str) -> datetime:
	"""Parse QBO/ISO timestamps with offsets, `Z`, fractional seconds or a bare date (taken as Pacific)."""
	s = text.strip()
	if s.endswith("Z") or s.endswith("z"):
		s = s[:-1] + "+00:00"
	if "." in s:
		head, _, tail = s.partition(".")
		digits = ""
		rest = ""
		for i, ch in enumerate(tail):
			if ch.isdigit():
				digits += ch
			else:
				rest = tail[i:]
				break
		s = head + ("." + digits[:6].ljust(6, "0") if digits else "") + rest
	if len(s) >= 5 and s[-5] in "+-" and s[-3] != ":" and "T" in s:
		s = s[:-2] + ":" + s[-2:]  # -0700 -> -07:00
	if "T" not in s:
		d = date.fromisoformat(s)
		return datetime(d.year, d.month, d.day, tzinfo=PACIFIC)
	dt = datetime.fromisoformat(s)
	if dt.tzinfo is None:
		dt = dt.replace(tzinfo=PACIFIC)
	return dt


def utc_iso_millis(dt: datetime) -> str:
	return dt.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def loads(data) -> object:
	if isinstance(data, bytes):
		data = data.decode("utf-8")
	return json.loads(data, parse_float=Decimal)


def dumps(obj) -> str:
	"""JSON text with Decimal as numbers, key order preserved."""
	parts: list[str] = []
	_emit(obj, parts)
	return "".join(parts)


def _emit(obj, out: list) -> None:
	if obj is None:
		out.append("null")
	elif obj is True:
		out.append("true")
	elif obj is False:
		out.append("false")
	elif isinstance(obj, Decimal):
		if obj.is_nan() or obj.is_infinite():
			out.append("null")
		else:
			text = format(obj, "f")
			out.append(text)
	elif isinstance(obj, (int, float)):
		out.append(json.dumps(obj))
	elif isinstance(obj, str):
		out.append(json.dumps(obj, ensure_ascii=False))
	elif isinstance(obj, dict):
		out.append("{")
		first = True
		for k, v in obj.items():
			if not first:
				out.append(",")
			first = False
			out.append(json.dumps(str(k), ensure_ascii=False))
			out.append(":")
			_emit(v, out)
		out.append("}")
	elif isinstance(obj, (list, tuple)):
		out.append("[")
		for i, v in enumerate(obj):
			if i:
				out.append(",")
			_emit(v, out)
		out.append("]")
	elif isinstance(obj, (datetime, date)):
		out.append(json.dumps(obj.isoformat()))
	else:
		raise TypeError(f"cannot serialise {type(obj).__name__}")
