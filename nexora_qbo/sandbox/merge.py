"""Merging two customers, as a bookkeeper does it in QBO's UI (there is no API operation for it).

What QBO does, and what this models (qbo-api.md §8: webhook operation "Merge", which "may carry deletedId";
name lists are never deleted, so a Customer stub with status "Deleted" in CDC can only be a merged one):
- every transaction of the merged ("from") customer now names the surviving ("into") customer: its
  CustomerRef changes, and that server-made change bumps SyncToken and LastUpdatedTime like any other (§1),
  so CDC shows each moved transaction as an update;
- the surviving customer's Balance now includes the moved open documents (it is derived, read-only);
- the merged customer no longer exists: a read answers "Object Not Found", CDC shows its deleted stub;
- one webhook event: {"name":"Customer","id":<into>,"operation":"Merge","deletedId":<from>}; the moved
  transactions get no events of their own.
Assumptions (sandbox README): the survivor keeps its own fields; sub-customers of the merged one are moved
under the survivor the same way (ParentRef); only live records move (deleted ones keep their reference).
"""

from __future__ import annotations

from . import faults as F
from .model import Realm
from .service import WriteContext, render

_REFS = ("CustomerRef", "ParentRef")


def merge_names(realm: Realm, entity: str, from_id: str, into_id: str, ctx: WriteContext) -> dict:
	"""Merge name-list record `from_id` into `into_id` (Customer only, like the UI's customer merge)."""
	if entity != "Customer":
		raise F.unsupported_operation(f"Operation Merge is not supported for {entity}.")
	src, dst = realm.get(entity, from_id), realm.get(entity, into_id)
	if src is None or dst is None or src.id == dst.id:
		raise F.not_found()
	for name in list(realm.records):
		for rec in realm.live(name):
			moved = False
			for ref in _REFS:
				value = rec.data.get(ref)
				if isinstance(value, dict) and str(value.get("value")) == src.id:
					rec.data[ref] = {**value, "value": dst.id, "name": dst.data.get("DisplayName")}
					moved = True
			if moved:
				ctx.bump(rec)
	src.deleted = True
	src.updated = ctx.now
	src.seq = realm.next_seq()
	src.extra["deleted_at"] = ctx.now
	src.extra["merged_into"] = dst.id
	ctx.bump(dst)
	ctx.events.append((entity, dst.id, "Merge", ctx.now, src.id))
	return render(realm, dst)


__all__ = ["merge_names"]
