"""JSON in and out with Decimal money: floats would silently corrupt cents (0.1 + 0.2)."""

from __future__ import annotations

import decimal
import json
import re
from datetime import date, datetime
from typing import Any


def loads(text: str | bytes) -> Any:
	"""Parse QBO JSON: floats become Decimal, ints stay int (Ids are strings in QBO anyway)."""
	if isinstance(text, (bytes, bytearray)):
		text = bytes(text).decode("utf-8")
	return json.loads(text, parse_float=decimal.Decimal)


# A Decimal is first replaced by a marked string, the tree is encoded ONCE by the stdlib (C) encoder, and
# the marked strings are then turned back into bare numbers. The marker starts with a NUL character, which
# the encoder always escapes as \u0000, so a marked string is recognisable in the output; a body whose own
# text holds a NUL (never valid for QBO) takes the walk-by-hand encoder instead.
_MARK = "\x00nxdec:"
_MARKED = re.compile(r'"\\u0000nxdec:(-?[0-9]+(?:\.[0-9]+)?)"')


def dumps(obj: Any) -> str:
	"""Serialise a request body compactly, writing Decimal as an exact JSON number.

	The stdlib encoder can only emit Decimal as a string or via float (lossy): Decimals become marked
	strings in one pass over the tree, the stdlib encodes it once, and the marks become numbers (see _MARK).
	Why not a per-key encoder: it called json.dumps once per key and leaf (331 calls per invoice)."""
	try:
		prepared = _prepare(obj)
	except _HasNul:
		parts: list[str] = []
		_encode(obj, parts)
		return "".join(parts)
	return _MARKED.sub(r"\1", json.dumps(prepared, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


class _HasNul(Exception):
	pass


def _prepare(obj: Any) -> Any:
	if isinstance(obj, str):
		if "\x00" in obj:
			raise _HasNul()
		return obj
	if isinstance(obj, decimal.Decimal):
		if not obj.is_finite():
			raise ValueError(f"cannot serialise non-finite Decimal {obj!r} to JSON")
		return _MARK + format(obj, "f")
	if isinstance(obj, dict):
		out = {}
		for key, value in obj.items():
			key = str(key)
			if "\x00" in key:
				raise _HasNul()
			out[key] = _prepare(value)
		return out
	if isinstance(obj, (list, tuple)):
		return [_prepare(v) for v in obj]
	if isinstance(obj, datetime):
		from .timeutil import format_qbo_datetime

		return format_qbo_datetime(obj)
	if isinstance(obj, date):
		return obj.isoformat()
	if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
		raise ValueError("cannot serialise non-finite float to JSON")
	return obj


def _encode(obj: Any, out: list[str]) -> None:
	if isinstance(obj, decimal.Decimal):
		if not obj.is_finite():
			raise ValueError(f"cannot serialise non-finite Decimal {obj!r} to JSON")
		out.append(format(obj, "f"))
	elif isinstance(obj, dict):
		out.append("{")
		for index, (key, value) in enumerate(obj.items()):
			if index:
				out.append(",")
			out.append(json.dumps(str(key), ensure_ascii=False))
			out.append(":")
			_encode(value, out)
		out.append("}")
	elif isinstance(obj, (list, tuple)):
		out.append("[")
		for index, value in enumerate(obj):
			if index:
				out.append(",")
			_encode(value, out)
		out.append("]")
	elif isinstance(obj, datetime):
		from .timeutil import format_qbo_datetime

		out.append(json.dumps(format_qbo_datetime(obj)))
	elif isinstance(obj, date):
		out.append(json.dumps(obj.isoformat()))
	elif isinstance(obj, float):
		if obj != obj or obj in (float("inf"), float("-inf")):
			raise ValueError("cannot serialise non-finite float to JSON")
		out.append(json.dumps(obj))
	else:
		out.append(json.dumps(obj, ensure_ascii=False))
