"""JSON in and out with Decimal money: floats would silently corrupt cents (0.1 + 0.2)."""

from __future__ import annotations

import decimal
import json
from datetime import date, datetime
from typing import Any


def loads(text: str | bytes) -> Any:
	"""Parse QBO JSON: floats become Decimal, ints stay int (Ids are strings in QBO anyway)."""
	if isinstance(text, (bytes, bytearray)):
		text = bytes(text).decode("utf-8")
	return json.loads(text, parse_float=decimal.Decimal)


def dumps(obj: Any) -> str:
	"""Serialise a request body compactly, writing Decimal as an exact JSON number.

	The stdlib encoder can only emit Decimal as a string or via float (lossy), so the tree is walked
	by hand; bodies are small (≤ 30 batch items), so this costs nothing that matters.
	"""
	parts: list[str] = []
	_encode(obj, parts)
	return "".join(parts)


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
