"""QBO timestamps: Pacific offsets (-07:00/-08:00), Z, and webhook nanoseconds, always timezone-aware.

An offset-less filter shifts CDC/query windows by hours and silently skips records, so naive values are
refused rather than guessed.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

_PATTERN = re.compile(
	r"^(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?)"
	r"(?:\.(?P<frac>\d+))?"
	r"(?P<tz>Z|z|[+-]\d{2}:?\d{2})?$"
)


def utcnow() -> datetime:
	"""The default clock everywhere: aware UTC."""
	return datetime.now(timezone.utc)


def parse_qbo_datetime(value: str) -> datetime:
	"""Parse '2020-09-29T05:58:16-07:00', '...Z', '...-0700', fractional seconds up to nanoseconds."""
	if isinstance(value, datetime):
		if value.tzinfo is None:
			raise ValueError(f"naive datetime {value!r}: QBO times always carry an offset")
		return value
	text = str(value).strip()
	match = _PATTERN.match(text)
	if not match:
		raise ValueError(f"not a QBO datetime: {value!r}")
	tz = match.group("tz")
	if tz is None:
		raise ValueError(f"QBO datetime without offset: {value!r}")
	base = match.group("base").replace(" ", "T")
	if len(base) == 16:
		base += ":00"
	frac = (match.group("frac") or "")[:6].ljust(6, "0")
	if tz in ("Z", "z"):
		tz = "+00:00"
	elif ":" not in tz:
		tz = f"{tz[:3]}:{tz[3:]}"
	return datetime.fromisoformat(f"{base}.{frac}{tz}")


def format_qbo_datetime(dt: datetime) -> str:
	"""Whole seconds with an explicit offset (QBO's resolution; truncation only widens a since-window)."""
	if dt.tzinfo is None or dt.utcoffset() is None:
		raise ValueError("refusing to format a naive datetime for QBO; attach a timezone")
	return dt.replace(microsecond=0).isoformat()
