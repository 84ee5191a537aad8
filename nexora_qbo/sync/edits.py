"""ERPNext cancels and amendments that meet a record the bookkeeper owns or edited in QuickBooks (invariant
10): a QBO-born document is never voided as a side effect of an ERPNext cancel (a person decides), and an
amendment of a document with a pending bookkeeper edit updates that same QuickBooks record. The Pusher asks
this collaborator before it sends such a cancel or create (see sync/review.py for the whole picture).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.books import Books
from nexora_qbo.sync.checks import q
from nexora_qbo.sync.entities import EntitySpec
from nexora_qbo.sync.merge import LABELS
from nexora_qbo.sync.ports import Conflict, Mapping, OutboxEntry
from nexora_qbo.sync.services import Collaborator, EngineServices

if TYPE_CHECKING:
	from nexora_qbo.sync.services import RealmContext

# review items that stand for a difference a person still has to settle on a transaction
PENDING_EDIT_KINDS = ("transaction_edited", "amend_local", "books_differ", "qbo_born_cancel", "remote_void")


class BookkeeperEdits(Collaborator):
	"""Decides how an ERPNext cancel/amendment treats a QuickBooks record a person owns or edited."""

	def __init__(self, services: EngineServices, books: Books):
		super().__init__(services)
		self.books = books

	def void_chosen(self, ctx: RealmContext, e: OutboxEntry) -> bool:
		"""A person already chose to void this document in QuickBooks (Void in QuickBooks too / Keep ERPNext on
		it after this cancel): the cancel goes through, also when it is retried in a later push."""
		if (e.local_type, e.local_id) in ctx.chosen_voids:
			return True
		return any(c.status == C.RESOLVED and c.resolution in (C.ACTION_VOID_IN_QBO, C.ACTION_KEEP_LOCAL)
			and (e.created_at is None or c.resolved_at is None or c.resolved_at >= e.created_at)
			for c in self.store.list_conflicts(ctx.realm_id, local_type=e.local_type, local_id=e.local_id))

	def ask_before_voiding(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, m: Mapping) -> Conflict:
		"""An ERPNext cancel of a transaction that was recorded in QuickBooks (imported from there) is not a
		reason to void the bookkeeper's document: a person decides (invariant 10)."""
		what = LABELS[spec.local_type]
		reason = (f"The {what} {e.local_id} was recorded in QuickBooks and cancelled in ERPNext; it is still live in "
			f"QuickBooks, and nothing was voided there. Choose {q(C.ACTION_VOID_IN_QBO)} to void it in QuickBooks as "
			f"well, {q(C.ACTION_KEEP_QBO)} to bring it back into ERPNext as it is in QuickBooks (for instance after "
			f"amending the invoice it pays), or {q(C.ACTION_ACCEPT_DIFFERENCE)} to leave the books apart knowingly.")
		actions = [C.ACTION_VOID_IN_QBO, C.ACTION_KEEP_QBO, C.ACTION_ACCEPT_DIFFERENCE]
		local = self.books.get_local(ctx, e.local_type, e.local_id)
		base_c = spec.from_qbo(m.base, ctx) if m.base else None
		c = self.books.open_conflict(ctx, spec, e.local_id, m.qbo_id, "qbo_born_cancel", reason, local, base_c, None,
			actions, diffs=[])
		return self.books.park(ctx, e, c.kind, reason, actions, conflict=c)

	def amend_in_place(self, ctx: RealmContext, e: OutboxEntry, spec: EntitySpec, local: dict) -> bool:
		"""The create of an ERPNext amendment: when the original's QuickBooks record has an open review item
		(a bookkeeper edit) or its cancel is parked under one, move the mapping to the amendment (fresh
		SyncToken), close the original's cancel and review items as superseded, and let the caller send the
		amendment as an UPDATE of that record. Returns False when a new QuickBooks document is right (no
		pending edit: the original's cancel voids it and the amendment is created, as ERPNext's trail says)."""
		original = local.get("amended_from")
		om = self.store.get_mapping(ctx.realm_id, spec.local_type, original) if original else None
		if om is None or om.status != C.ACTIVE:
			return False
		items = [c for c in self.store.list_conflicts(ctx.realm_id, status=C.OPEN, local_type=spec.local_type,
			local_id=original) if c.kind in PENDING_EDIT_KINDS]
		entries = self.store.list_outbox(ctx.realm_id, states=C.OPEN_STATES + (C.PARKED,), local_type=spec.local_type,
			local_id=original)
		parked = [x for x in entries if x.state == C.PARKED and x.conflict_id]
		if not items and not parked:
			return False
		remote = ctx.client.read(spec.qbo_entity, om.qbo_id)
		if spec.is_voided(remote):
			return False
		remote_c = spec.from_qbo(remote, ctx)
		now = self.clock.now()
		note = f"superseded by amendment {e.local_id}"
		with self.store.transaction():
			self.store.delete_mapping(ctx.realm_id, spec.local_type, original)
			self.store.save_mapping(Mapping(realm_id=ctx.realm_id, local_type=spec.local_type, local_id=e.local_id,
				qbo_entity=spec.qbo_entity, qbo_id=om.qbo_id, sync_token=remote.get("SyncToken"), base=remote,
				remote_hash=R.content_hash(spec.local_type, remote_c), status=C.ACTIVE, updated_at=now,
				origin=om.origin))
			for x in entries:
				x.state, x.last_error, x.updated_at = C.DONE, note, now
				self.store.save_outbox(x)
			for c in items + [self.store.get_conflict(x.conflict_id) for x in parked]:
				if c is not None and c.status == C.OPEN:
					c.status, c.resolution, c.resolved_by, c.resolved_at = C.RESOLVED, C.RESOLUTION_AMENDED, "sync", now
					c.reason = (c.reason or "") + f" Resolved by the amendment {e.local_id}, which updated the same " \
						f"QuickBooks {LABELS[spec.local_type]}."
					self.store.save_conflict(c)
			self.books.event(ctx, C.OUTBOUND, spec, e.local_id, om.qbo_id, "linked",
				f"amendment of {original}: updates the same QuickBooks record")
		return True


__all__ = ["PENDING_EDIT_KINDS", "BookkeeperEdits"]
