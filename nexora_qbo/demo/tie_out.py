"""The month's tie-out for the demo: does every open invoice (and each customer) owe the same in both books?

Architecture invariant 9: QBO's Balance equals ERPNext's outstanding to the cent, or an open review item
names the cause. The engine has no tie-out API on this branch yet (another session adds one), so this module
computes a simple one from what is already reachable — QBO's answers through the engine's own client (so the
reads are audited like any other) and the SQLite ledger's outstanding — and is the only place the demo does
so: replace `tie_out()` with the engine's when it lands, and `print_tie_out()` keeps printing it.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from nexora_qbo.sync import constants as C

ZERO = Decimal("0.00")
DOC_TYPES = ((C.INVOICE, "Invoice", 1), (C.CREDIT_MEMO, "CreditMemo", -1))


def tie_out(engine, ledger, realm_id: str) -> dict:
	"""Per document and per customer: ERPNext's outstanding vs QBO's Balance, and the open review items."""
	company = engine.settings(realm_id).company
	client = engine.client(realm_id)
	review = {
		(c.local_type, c.local_id): c.reason.split(" (")[0]
		for c in engine.store.list_conflicts(realm_id)
		if c.status == C.OPEN and c.local_id
	}
	docs, customers = [], defaultdict(lambda: {"local": ZERO, "qbo": ZERO})
	for local_type, qbo_entity, sign in DOC_TYPES:
		remote = {str(o["Id"]): o for o in client.query_all(qbo_entity)}
		for local_id in ledger.list_all(company, local_type):
			rec = ledger.get(company, local_type, local_id)
			mapping = engine.store.get_mapping(realm_id, local_type, local_id)
			if rec is None or rec.get("state") != "submitted" or mapping is None:
				continue
			local = Decimal(str(rec["outstanding"])).quantize(ZERO)
			qbo_obj = remote.get(str(mapping.qbo_id)) or {}
			qbo = Decimal(str(qbo_obj.get("Balance", "0"))).quantize(ZERO)
			if not local and not qbo:
				continue  # closed in both books
			docs.append(
				{
					"document": local_id,
					"customer": rec.get("customer"),
					"local": local,
					"qbo": qbo,
					"review": review.get((local_type, local_id)),
				}
			)
			customers[rec.get("customer")]["local"] += sign * local
			customers[rec.get("customer")]["qbo"] += sign * qbo
	return {
		"company": company,
		"documents": docs,
		"customers": [{"customer": k, **v} for k, v in sorted(customers.items(), key=lambda kv: str(kv[0]))],
	}


def _line(label: str, local: Decimal, qbo: Decimal, review: str | None = None) -> str:
	if local == qbo:
		verdict = "ties"
	elif review:
		verdict = f"differs by {qbo - local:+.2f}: in review — {review}"
	else:
		verdict = f"DIFFERS by {qbo - local:+.2f} with no review item"
	return f"  {label:<34} ERPNext {local:>10.2f}   QuickBooks {qbo:>10.2f}   {verdict}"


def print_tie_out(engine, ledger, realm_id: str, say=print) -> dict:
	"""Print the month-end tie-out in words; return the data (tests read it)."""
	data = tie_out(engine, ledger, realm_id)
	say(f"Month-end tie-out — {data['company']}: what each open invoice still owes, in both books")
	for d in data["documents"]:
		say(_line(d["document"], d["local"], d["qbo"], d["review"]))
	if not data["documents"]:
		say("  no open invoices")
	has_review = {d["customer"] for d in data["documents"] if d["review"]}
	for c in data["customers"]:
		note = "see its invoice above" if c["customer"] in has_review else None
		say(_line(f"customer {c['customer']}", c["local"], c["qbo"], note))
	untied = [d for d in data["documents"] if d["local"] != d["qbo"] and not d["review"]]
	say(
		"  Every open invoice ties, or a review item says why."
		if not untied
		else f"  {len(untied)} open invoice(s) differ with no review item: investigate."
	)
	return data
