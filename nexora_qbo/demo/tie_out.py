"""The month's tie-out for the demo: the engine's own AR tie-out (sync/tieout.py), printed in words.

Architecture invariant 9: QBO's Balance equals ERPNext's outstanding to the cent, per open document and per
customer, or an open review item names the cause. The demo shows exactly what the bench command
`nexora-qbo-tie-out` and the nightly job compute, so a newcomer sees the real check, not a stand-in.
"""

from __future__ import annotations

from datetime import date

from nexora_qbo.sync.tieout import TieOut, format_tie_out


def print_tie_out(engine, realm_id: str, as_of: date, say=print) -> TieOut:
	"""Run the tie-out (kept for the day, like the nightly run), print it in plain words, return it."""
	result = engine.tie_out(realm_id, as_of)
	say("Month-end tie-out — " + format_tie_out(result).removeprefix("AR tie-out — "))
	return result
