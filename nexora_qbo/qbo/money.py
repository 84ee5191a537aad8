"""Money helpers: QBO amounts are compared and sent as Decimal rounded half-up to cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def to_money(value: Any) -> Decimal:
	"""Decimal rounded half-up to 2 dp; floats go through repr() so 0.1 is 0.10, not 0.1000000000000000055."""
	if value is None:
		raise ValueError("money value is None")
	if isinstance(value, bool):
		raise TypeError("a bool is not a money amount")
	if isinstance(value, float):
		value = repr(value)
	return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
