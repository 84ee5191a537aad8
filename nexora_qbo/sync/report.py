"""Report data for one realm and one month: what synced (by entity and direction), what was resolved
automatically, what waits for review, and what failed. Plain dicts, ready for the ERPNext Script Report and
the demo's printout."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

from nexora_qbo.sync import constants as C
from nexora_qbo.sync.ports import Store


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
	start = datetime(year, month, 1, tzinfo=timezone.utc)
	end = datetime(year + (month == 12), (month % 12) + 1, 1, tzinfo=timezone.utc)
	return start, end


def _conflict_row(c) -> dict:
	return {
		"id": c.id,
		"kind": c.kind,
		"document": f"{c.local_type} {c.local_id}" if c.local_id else None,
		"qbo": f"{c.qbo_entity} {c.qbo_id}" if c.qbo_id else None,
		"reason": c.reason,
		"actions": list(c.actions or []),
		"fields": [d.get("field") for d in c.diffs or []],
		"created_at": c.created_at.isoformat() if c.created_at else None,
		"resolution": c.resolution,
		"resolution_words": C.RESOLUTION_WORDS.get(c.resolution or "", c.resolution),
		"resolved_by": c.resolved_by,
		"resolved_at": c.resolved_at.isoformat() if c.resolved_at else None,
	}


def month_report(store: Store, realm_id: str, year: int, month: int) -> dict:
	start, end = month_bounds(year, month)
	settings = store.get_settings(realm_id)
	events = store.list_events(realm_id, start, end)
	synced: Counter = Counter()
	actions: Counter = Counter()
	for ev in events:
		synced[(ev.qbo_entity or "?", ev.direction)] += 1
		actions[(ev.qbo_entity or "?", ev.direction, ev.action)] += 1
	conflicts = store.list_conflicts(realm_id)
	in_month = [c for c in conflicts if c.created_at and start <= c.created_at < end]
	audit = store.audit_summary(realm_id, start, end)  # counted in the database: no row is decoded
	errors = {(o, code): n for o, code, n in audit if o != "ok"}
	failing = store.list_outbox(realm_id, states=(C.FAILED, C.PARKED))
	return {
		"realm_id": realm_id,
		"company": settings.company if settings else None,
		"period": f"{year:04d}-{month:02d}",
		"synced": [
			{"entity": e, "direction": d, "count": n} for (e, d), n in sorted(synced.items())
		],
		"synced_by_action": [
			{"entity": e, "direction": d, "action": a, "count": n} for (e, d, a), n in sorted(actions.items())
		],
		"auto_resolved": [_conflict_row(c) for c in in_month if c.status == C.AUTO_RESOLVED],
		"resolved": [_conflict_row(c) for c in in_month if c.status == C.RESOLVED],
		"awaiting_review": [_conflict_row(c) for c in conflicts if c.status == C.OPEN],
		"failures": [
			{
				"outbox_id": e.id,
				"document": f"{e.local_type} {e.local_id}",
				"action": e.action,
				"state": e.state,
				"attempts": e.attempts,
				"next_attempt_at": e.next_attempt_at.isoformat() if e.next_attempt_at else None,
				"error": e.last_error,
			}
			for e in failing
		],
		"tie_out": _month_tie_out(store, realm_id, start, end),
		"tie_out_trend": _tie_out_trend(store, realm_id, start, end),
		"exchanges": sum(n for _, _, n in audit),
		"exchange_errors": [
			{"outcome": o, "code": code, "count": n} for (o, code), n in sorted(errors.items(), key=lambda x: str(x))
		],
	}


def _month_days(start: datetime, end: datetime) -> tuple:
	from datetime import timedelta

	return start.date(), (end - timedelta(days=1)).date()


def _tie_outs(store: Store, realm_id: str, start: datetime, end: datetime) -> list[dict]:
	first, last = _month_days(start, end)
	return store.list_tie_outs(realm_id, first, last)


def _month_tie_out(store: Store, realm_id: str, start: datetime, end: datetime) -> dict | None:
	"""The month-end tie-out: the latest one kept in the month (None when none ran)."""
	runs = _tie_outs(store, realm_id, start, end)
	return runs[-1] if runs else None


def _tie_out_trend(store: Store, realm_id: str, start: datetime, end: datetime) -> list[dict]:
	"""One point per day a tie-out ran: home-currency totals, difference, and counts."""
	out = []
	for s in _tie_outs(store, realm_id, start, end):
		home = s["totals"]["home"]
		out.append({
			"as_of": s["as_of"],
			"erpnext": home["erpnext"],
			"qbo": home["qbo"],
			"difference": home["difference"],
			"differences": s["counts"]["differences"],
			"unexplained": s["counts"]["unexplained"],
		})
	return out


def format_report(data: dict) -> str:
	"""A plain-text rendering (the demo prints it)."""
	lines = [f"Nexora QBO sync report — {data['company']} (realm {data['realm_id']}), {data['period']}", ""]
	lines.append("Synced documents")
	for row in data["synced"]:
		arrow = "ERPNext → QBO" if row["direction"] == C.OUTBOUND else "QBO → ERPNext"
		lines.append(f"  {row['entity']:<11} {arrow:<14} {row['count']:>4}")
	if not data["synced"]:
		lines.append("  (none)")
	lines.append("")
	lines.append(f"Resolved automatically: {len(data['auto_resolved'])}")
	for c in data["auto_resolved"]:
		lines.append(f"  - {c['reason']}")
	lines.append(f"Awaiting review: {len(data['awaiting_review'])}")
	for c in data["awaiting_review"]:
		lines.append(f"  - [{c['kind']}] {c['reason']} (actions: {', '.join(c['actions'])})")
	lines.append(f"Failures still queued: {len(data['failures'])}")
	for f in data["failures"]:
		lines.append(f"  - {f['document']} {f['action']} ({f['state']}, {f['attempts']} attempts): {f['error']}")
	tie = data.get("tie_out")
	if tie:
		home = tie["totals"]["home"]
		lines.append(f"Month-end AR tie-out ({tie['as_of']}): ERPNext AR {home['erpnext']}, QuickBooks A/R "
			f"{home['qbo']}, difference {home['difference']}; differences {tie['counts']['differences']}, "
			f"unexplained: {tie['counts']['unexplained']}")
		for p in data.get("tie_out_trend") or []:
			lines.append(f"  {p['as_of']}: difference {p['difference']}, unexplained {p['unexplained']}")
	else:
		lines.append("Month-end AR tie-out: none ran this month")
	lines.append(f"HTTP exchanges with QuickBooks: {data['exchanges']}")
	for e in data["exchange_errors"]:
		lines.append(f"  {e['outcome']} {e['code'] or ''}: {e['count']}")
	return "\n".join(lines)
