"""Shared bookkeeping of the engine's collaborators: review items, sync events, parked outbox entries, the
three-way merge of master data and the hold of a transaction edited in QuickBooks.

Why a module of its own: Push, Pull and Review all open review items, park entries and write sync events the
same way (one open item per document and kind, a parked entry always names its item). Keeping those writes
here lets each collaborator depend on this one small module instead of on each other (no import circle).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.customers import hold_deactivation
from nexora_qbo.sync.entities import ENTITIES
from nexora_qbo.sync.merge import LABELS, merge_master
from nexora_qbo.sync.outbox import record_change
from nexora_qbo.sync.ports import Conflict, Mapping, OutboxEntry
from nexora_qbo.sync.services import Collaborator
from nexora_qbo.sync.line_changes import describe as describe_lines

if TYPE_CHECKING:
	from datetime import datetime

	from nexora_qbo.sync.services import RealmContext


class Books(Collaborator):
	"""Review items, events and parked entries, written the same way for every collaborator."""

	def get_local(self, ctx: RealmContext, local_type: str, local_id: str) -> dict | None:
		"""The ledger's canonical record, seen the way QBO would store it (e.g. no currency = home currency)."""
		record = self.ledger.get(ctx.company, local_type, local_id)
		return None if record is None else ENTITIES[local_type].local_view(record, ctx)

	def event(self, ctx, direction, spec, local_id, qbo_id, action, detail=None) -> None:
		from nexora_qbo.sync.ports import SyncEvent

		self.store.add_event(SyncEvent(realm_id=ctx.realm_id, direction=direction, local_type=spec.local_type,
			local_id=local_id, qbo_entity=spec.qbo_entity, qbo_id=qbo_id, action=action, detail=detail,
			conflict_id=audit.current().conflict_id, timestamp=self.clock.now()))

	def open_conflict(self, ctx, spec, local_id, qbo_id, kind, reason, local, remote_c, base_c, actions,
			diffs: list | None = None, status: str = C.OPEN, resolution: str | None = None) -> Conflict:
		from nexora_qbo.sync.merge import diffs as all_diffs

		if status == C.OPEN:
			for c in self.store.list_conflicts(ctx.realm_id, status=C.OPEN, local_type=spec.local_type, local_id=local_id):
				if c.kind == kind:  # one open review item per document and kind: refresh it
					c.qbo_version, c.local_version = R.plain(remote_c), R.plain(local)
					c.diffs = R.plain(diffs if diffs is not None else all_diffs(spec.local_type, base_c, local, remote_c))
					c.reason = reason
					self.store.save_conflict(c)
					return c
		now = self.clock.now()
		c = self.store.add_conflict(Conflict(
			realm_id=ctx.realm_id, local_type=spec.local_type, local_id=local_id, qbo_entity=spec.qbo_entity,
			qbo_id=qbo_id, kind=kind, reason=reason, local_version=R.plain(local), qbo_version=R.plain(remote_c),
			base_version=R.plain(base_c),
			diffs=R.plain(diffs if diffs is not None else all_diffs(spec.local_type, base_c, local, remote_c)),
			status=status, resolution=resolution, actions=actions, created_at=now,
			resolved_at=now if status != C.OPEN else None, resolved_by="sync" if status != C.OPEN else None,
		))
		audit.set_conflict(c.id)
		return c

	def park(self, ctx: RealmContext, e: OutboxEntry, kind: str, reason: str, actions: list[str],
			qbo_version: dict | None = None, base_version: dict | None = None, diffs: list | None = None,
			conflict: Conflict | None = None) -> Conflict:
		spec = ENTITIES[e.local_type]
		m = self.store.get_mapping(ctx.realm_id, e.local_type, e.local_id)
		if conflict is None and kind == "rejected":
			conflict = self._refresh_rejected(ctx, e, reason, actions)
		with self.store.transaction():
			if conflict is None:
				conflict = self.store.add_conflict(Conflict(
					realm_id=ctx.realm_id, local_type=e.local_type, local_id=e.local_id, qbo_entity=spec.qbo_entity,
					qbo_id=m.qbo_id if m else None, kind=kind, reason=reason,
					local_version=R.plain(self.get_local(ctx, e.local_type, e.local_id)),
					qbo_version=R.plain(qbo_version), base_version=R.plain(base_version), diffs=R.plain(diffs or []),
					status=C.OPEN, actions=actions, outbox_id=e.id, created_at=self.clock.now(),
				))
			e.state = C.PARKED
			e.conflict_id = conflict.id
			e.last_error = reason[:1000]
			e.updated_at = self.clock.now()
			self.store.save_outbox(e)
		return conflict

	def _refresh_rejected(self, ctx: RealmContext, e: OutboxEntry, reason: str, actions: list[str]) -> Conflict | None:
		"""A document QBO rejects again (after Retry, or a second intent) keeps its ONE review item: the open
		one, or the one closed by the Retry that led here, is refreshed (and reopened) instead of adding more."""
		same = [c for c in self.store.list_conflicts(ctx.realm_id, local_type=e.local_type, local_id=e.local_id)
			if c.kind == "rejected" and (c.status == C.OPEN or c.resolution == C.ACTION_RETRY)]
		if not same:
			return None
		c = next((x for x in same if x.status == C.OPEN), same[-1])
		c.status, c.resolution, c.resolved_by, c.resolved_at = C.OPEN, None, None, None
		c.reason, c.actions, c.outbox_id = reason, actions, e.id
		c.local_version = R.plain(self.get_local(ctx, e.local_type, e.local_id))
		self.store.save_conflict(c)
		return c

	def hold_transaction(self, ctx, spec, m, local, remote, remote_c, base_c, changes, entry=None) -> Conflict:
		"""A bookkeeper edited (or voided) a synced transaction in QBO: never overwrite, never copy silently."""
		voided = spec.is_voided(remote)
		what = LABELS[spec.local_type]
		lbl = C.ACTION_LABELS
		if voided:
			reason = (f"The {what} {m.local_id} was voided in QuickBooks. It is still active here: choose "
				f"\u201c{lbl[C.ACTION_ACCEPT_QBO]}\u201d to cancel it here too, or \u201c{lbl[C.ACTION_DISMISS]}\u201d if it "
				f"should stay.")
			kind, actions = "remote_void", [C.ACTION_ACCEPT_QBO, C.ACTION_DISMISS]
		else:
			fields = C.field_words(c["field"] for c in changes)
			lines_said = describe_lines((base_c or {}).get("lines"), (remote_c or {}).get("lines"))  # issue 11
			reason = (f"The {what} {m.local_id} was changed in QuickBooks after it was synced ({fields}"
				f"{': ' + lines_said if lines_said else ''}). It was not overwritten and the change was not copied here. ")
			if (local or {}).get("state") == "cancelled":
				reason += (f"It is cancelled in ERPNext, so nothing was voided yet: choose "
					f"\u201c{lbl[C.ACTION_KEEP_LOCAL]}\u201d to void it in QuickBooks too, or \u201c{lbl[C.ACTION_KEEP_QBO]}\u201d "
					f"to keep QuickBooks' version and bring it back into ERPNext as a new document.")
			else:
				reason += (f"To take the change, cancel and amend the {what} in ERPNext to match (the amendment updates "
					f"the same QuickBooks {what}); \u201c{lbl[C.ACTION_KEEP_LOCAL]}\u201d sends the ERPNext version back; "
					f"\u201c{lbl[C.ACTION_KEEP_QBO]}\u201d keeps QuickBooks' version without changing ERPNext.")
			kind, actions = "transaction_edited", [C.ACTION_KEEP_QBO, C.ACTION_KEEP_LOCAL, C.ACTION_DISMISS]
		with self.store.transaction():
			m.sync_token = remote.get("SyncToken")  # seen; the last agreed base stays the ancestor
			if voided:
				m.status = C.VOIDED
			self.store.save_mapping(m)
			conflict = self.open_conflict(ctx, spec, m.local_id, m.qbo_id, kind, reason, local, remote_c, base_c, actions)
			if entry is not None:
				self.park(ctx, entry, kind, reason, actions, conflict=conflict)
		return conflict

	def merge_master_remote(self, ctx, spec, m: Mapping, local: dict, remote_c: dict, *, base_c: dict | None,
			remote_obj: dict | None = None, entry: OutboxEntry | None = None) -> tuple[dict | None, list[str]]:
		"""Apply a three-way merge of master data. Returns (merged local record, fields QBO still needs) or
		(None, []) when both-sided conflicts are held for review (policy "review")."""
		remote_c = hold_deactivation(self, ctx, spec, m, local, remote_c, base_c)  # open AR: never a silent disable
		res = merge_master(spec.local_type, base_c, local, remote_c)
		what = LABELS[spec.local_type]
		if res.both:
			fields = ", ".join(d["field"] for d in res.both)
			if ctx.settings.conflict_policy == C.REVIEW:
				reason = (f"The {what} {m.local_id} was changed both here and in QuickBooks ({fields}). Nothing was "
					f"overwritten on either side: choose which values to keep.")
				c = self.open_conflict(ctx, spec, m.local_id, m.qbo_id, "field_conflict", reason, local, remote_c, base_c,
					[C.ACTION_KEEP_QBO, C.ACTION_KEEP_LOCAL, C.ACTION_DISMISS], diffs=res.both)
				with self.store.transaction():
					if res.remote_only:  # only the conflicting fields are held; one-sided QBO edits still flow
						held = dict(R.normalize(spec.local_type, local))
						held.update({f: res.merged[f] for f in res.remote_only})
						self.ledger.upsert_from_qbo(ctx.company, spec.local_type, m.local_id, held)
						self.event(ctx, C.INBOUND, spec, m.local_id, m.qbo_id, "updated",
							"fields from QuickBooks: " + ", ".join(res.remote_only))
					if remote_obj is not None:
						m.base, m.sync_token = remote_obj, remote_obj.get("SyncToken")
						m.remote_hash = R.content_hash(spec.local_type, remote_c)
						self.store.save_mapping(m)
				if entry is not None:
					self.park(ctx, entry, c.kind, reason, c.actions, conflict=c)
				return None, []
			reason = (f"The {what} {m.local_id} was changed both here and in QuickBooks ({fields}); QuickBooks' values "
				f"were kept because QuickBooks holds the official books.")
			self.open_conflict(ctx, spec, m.local_id, m.qbo_id, "field_conflict", reason, local, remote_c, base_c,
				[], diffs=res.both, status=C.AUTO_RESOLVED, resolution=C.ACTION_KEEP_QBO)
		merged_local = dict(R.normalize(spec.local_type, local))
		merged_local.update({f: res.merged[f] for f in R.CONTENT_FIELDS[spec.local_type]})
		with self.store.transaction():
			if res.remote_only or res.both:
				self.ledger.upsert_from_qbo(ctx.company, spec.local_type, m.local_id, merged_local)
				self.event(ctx, C.INBOUND, spec, m.local_id, m.qbo_id, "updated",
					"fields from QuickBooks: " + ", ".join(res.remote_only + [d["field"] for d in res.both]))
			if remote_obj is not None:
				m.base, m.sync_token = remote_obj, remote_obj.get("SyncToken")
				m.remote_hash = R.content_hash(spec.local_type, remote_c)
				self.store.save_mapping(m)
		to_send = [f for f in res.local_only if spec.field_keys.get(f)]
		if to_send and entry is None:
			# local-only changes found while pulling/linking: make sure an update goes out
			record_change(self.store, ctx.realm_id, spec.local_type, m.local_id, "update", self.clock.now())
		return merged_local, to_send

	def close_parked(self, entries: list[OutboxEntry], note: str) -> None:
		for e in entries:
			e.state, e.last_error = C.DONE, note
			self.store.save_outbox(e)

	def resolve(self, c, action: str, by: str, now: datetime) -> None:
		c.status, c.resolution, c.resolved_by, c.resolved_at = C.RESOLVED, action, by, now
		self.store.save_conflict(c)


__all__ = ["Books"]
