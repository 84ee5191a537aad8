"""Plain words for what the engine reports: a bookkeeper reads "2 invoices sent to QuickBooks", not
`{'done': 2, 'failed': 0, 'parked': 0}`.

The engine's counters (sync/pull.py, sync/push.py outcomes) are its own vocabulary; only this module knows how
to say them. An outcome it does not know is still printed, under its own name, so nothing is hidden.
"""

from __future__ import annotations

from nexora_qbo.sync import constants as C

# outcome -> (singular, plural); None = routine bookkeeping of the sync itself, not worth a line
PULL_WORDS: dict[str, tuple[str, str] | None] = {
	"imported": ("new record brought in from QuickBooks", "new records brought in from QuickBooks"),
	"linked": ("record matched to one already here", "records matched to ones already here"),
	"updated": ("change from QuickBooks applied here", "changes from QuickBooks applied here"),
	"mirror": ("credit applied here as in QuickBooks", "credits applied here as in QuickBooks"),
	"followed": ("void/delete in QuickBooks followed here", "voids/deletes in QuickBooks followed here"),
	"held": (
		"change from QuickBooks waiting for your review",
		"changes from QuickBooks waiting for your review",
	),
	"parked": (
		"change that could not be applied, waiting for review",
		"changes that could not be applied, waiting for review",
	),
	"interrupted": ("pull interrupted, resumes next time", "pulls interrupted, resume next time"),
	"echo": None,  # our own writes coming back
	"duplicate": None,  # the same change seen twice (CDC overlap)
	"unchanged": None,
	"ignored": None,
	"other_realm": None,
	"fallback": None,
}
PUSH_WORDS: dict[str, tuple[str, str] | None] = {
	"done": ("document sent to QuickBooks", "documents sent to QuickBooks"),
	"failed": (
		"document not sent yet (retried automatically)",
		"documents not sent yet (retried automatically)",
	),
	"parked": ("document waiting for your review", "documents waiting for your review"),
	"queued": None,
}


def _phrase(counts: dict, words: dict) -> list[str]:
	out = []
	for key, n in counts.items():
		if not n:
			continue
		if key.startswith("swept_"):
			key = key[len("swept_") :]
		if key not in words:
			out.append(f"{n} {key.replace('_', ' ')}")
			continue
		said = words[key]
		if said is not None:
			out.append(f"{n} {said[0] if n == 1 else said[1]}")
	return out


def pull(counts: dict) -> str:
	return "; ".join(_phrase(counts, PULL_WORDS)) or "nothing new from QuickBooks"


def push(counts: dict) -> str:
	return "; ".join(_phrase(counts, PUSH_WORDS)) or "nothing to send"


def sync(result: dict) -> str:
	return f"{pull(result['pull'])}; {push(result['push'])}."


DIRECTION = {C.OUTBOUND: "sent to QuickBooks", C.INBOUND: "brought in from QuickBooks"}
ENTITY_WORDS = {
	"Customer": ("customer", "customers"),
	"Item": ("item", "items"),
	"Invoice": ("invoice", "invoices"),
	"CreditMemo": ("credit memo", "credit memos"),
	"Payment": ("payment", "payments"),
}
# Exchange outcomes that are the sync working as designed, said as such instead of listed as failures.
ROUTINE_ERRORS = {
	"3200": "access token renewed (it lasts an hour)",
	"3001": "asked by QuickBooks to slow down (waited, resent, nothing duplicated)",
}


def report(data: dict) -> str:
	"""The month's sync report (engine.report) as a short letter to the bookkeeper."""
	lines = [f"{data['company']} — {data['period']} (QuickBooks company {data['realm_id']})"]
	for row in data["synced"]:
		one, many = ENTITY_WORDS.get(row["entity"], (row["entity"], row["entity"] + "s"))
		what = one if row["count"] == 1 else many
		lines.append(f"  {row['count']:>3} {what} {DIRECTION.get(row['direction'], row['direction'])}")
	if not data["synced"]:
		lines.append("  nothing synced this month")
	for c in data["auto_resolved"]:
		lines.append(f"  Settled automatically: {c['reason']}")
	for c in data["resolved"]:
		first = c["reason"].split(". ")[0].rstrip(".")
		by = f" by {c['resolved_by']}" if c.get("resolved_by") not in (None, "", "sync", "tie-out") else ""
		lines.append(f"  Resolved{by}: {first} — {c['resolution_words']}.")
	for c in data["awaiting_review"]:
		lines.append(f"  Needs your review: {c['reason']}")
	for f in data["failures"]:
		lines.append(
			f"  Not sent yet: {f['document']} ({f['attempts']} attempts, retried automatically): {f['error']}"
		)
	if not data["awaiting_review"] and not data["failures"]:
		lines.append("  Nothing needs your attention.")
	routine, problems = [], []
	for e in data["exchange_errors"]:
		said = ROUTINE_ERRORS.get(str(e["code"] or "")) or C.EXCHANGE_OUTCOME_WORDS.get(e["outcome"])
		label = said or f"{e['outcome']} {e['code'] or ''}".strip()
		routine_one = str(e["code"] or "") in ROUTINE_ERRORS or e["outcome"] in C.ROUTINE_OUTCOMES
		(routine if routine_one else problems).append(f"{label}: {e['count']} times")
	lines.append(f"  {data['exchanges']} exchanges with QuickBooks, each kept in the sync log.")
	if routine:
		lines.append("  Routine: " + "; ".join(routine) + ".")
	if problems:
		lines.append("  Errors from QuickBooks: " + "; ".join(problems) + ".")
	return "\n".join(lines)
