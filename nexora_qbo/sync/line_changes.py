"""Which lines of a transaction a bookkeeper changed in QBO, in words that name the worker and the week.

Why: a timesheet invoice has one line per worker and week (description "Maria Lopez, week of 2026-11-02,
40.00 h regular"; ServiceDate = the week). "Lines changed" alone would send the bookkeeper hunting; the review
item says which worker's hours, for which week, went from what to what.
"""
from __future__ import annotations

from nexora_qbo.sync import records as R


def _who(line: dict) -> str:
	desc = line.get("description") or line.get("item") or "a line"
	when = line.get("service_date")
	return f"{desc} (service date {when})" if when and when not in desc else desc


def describe(base_lines: list[dict] | None, remote_lines: list[dict] | None) -> str:
	"""One sentence per changed line (matched by position: QBO keeps line order and Ids)."""
	base = [R.normalize_line(x) for x in base_lines or []]
	remote = [R.normalize_line(x) for x in remote_lines or []]
	out = []
	for n in range(max(len(base), len(remote))):
		b = base[n] if n < len(base) else None
		r = remote[n] if n < len(remote) else None
		if b == r:
			continue
		if b is None:
			out.append(f"a line was added: {_who(r)}, {r['qty']} at {r['rate']} = {r['amount']}")
		elif r is None:
			out.append(f"the line {_who(b)} was removed ({b['amount']})")
		elif b["qty"] != r["qty"]:
			out.append(f"{_who(b)}: hours/quantity {b['qty']} \u2192 {r['qty']} (amount {b['amount']} \u2192 {r['amount']})")
		elif b["rate"] != r["rate"]:
			out.append(f"{_who(b)}: rate {b['rate']} \u2192 {r['rate']} (amount {b['amount']} \u2192 {r['amount']})")
		else:
			out.append(f"{_who(b)} was changed")
	return "; ".join(out)
