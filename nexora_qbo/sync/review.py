"""Review actions that cannot damage either book (invariant 10): the Reviewer collaborator.

Why a module of its own: every action a person takes on a review item (Retry, Keep QuickBooks, Keep
ERPNext, Accept QuickBooks' change, Dismiss, Void in QuickBooks too, Accept the difference) must end with
both books agreeing for that document, or with an open review item that says what still differs. The
pieces that make that true:

- `BooksCheck.check_books` / `after_action` (sync/checks.py): the post-action check. It compares the document on both sides (cancelled
  here vs live in QuickBooks, total, lines, ERPNext outstanding vs QuickBooks Balance, a payment's
  allocations) and keeps or opens ONE "books_differ" item whose reason says in plain words what differs and
  which button comes next. A document with work still waiting in the outbox is not judged yet: the outbox
  entry carries it (it lands, or it is parked with its own item). Master data is not checked here: its
  field merge already ends in agreement or in a field_conflict item.
- `Reviewer.restore_from_qbo`: "Keep QuickBooks" on a document cancelled here while QuickBooks kept it live: ERPNext
  gets it back as a new document made from QuickBooks' version (the cancelled one stays cancelled), and the
  mapping moves to it.
- `Reviewer.requeue_void`: "Keep ERPNext" / "Void in QuickBooks too" on a cancelled document: the parked cancel is
  sent again with a fresh SyncToken (never an update that would overwrite the bookkeeper's edit).
- `BookkeeperEdits.ask_before_voiding` (sync/edits.py): an ERPNext cancel of a transaction that originated in QuickBooks never voids it
  there as a side effect; a person is asked (unless the realm policy says to follow).
- `BookkeeperEdits.amend_in_place`: an ERPNext amendment of a document whose QuickBooks record has a pending bookkeeper
  edit (or whose cancel is parked under one) updates that same QuickBooks record with a fresh SyncToken,
  instead of leaving two live invoices for one sale.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R
from nexora_qbo.sync.books import Books
from nexora_qbo.sync.checks import BooksCheck
from nexora_qbo.sync.edits import PENDING_EDIT_KINDS
from nexora_qbo.sync.entities import BY_QBO, ENTITIES, EntitySpec
from nexora_qbo.sync.errors import SyncError
from nexora_qbo.sync.merge import LABELS, link_differences
from nexora_qbo.sync.ports import Mapping, OutboxEntry
from nexora_qbo.sync.services import Collaborator, EngineServices

if TYPE_CHECKING:
	from nexora_qbo.sync.pull import Puller
	from nexora_qbo.sync.push import Pusher
	from nexora_qbo.sync.services import RealmContext


class Reviewer(Collaborator):
	"""Acts on review items (engine facade: SyncEngine.resolve_conflict)."""

	def __init__(self, services: EngineServices, books: Books, checks: BooksCheck, pusher: Pusher, puller: Puller):
		super().__init__(services)
		self.books, self.checks, self.pusher, self.puller = books, checks, pusher, puller

	def resolve_conflict(self, conflict_id: str, action: str, by: str) -> None:
		"""Act on a review item. Actions: retry, keep_qbo, keep_local, accept_qbo, dismiss, void_in_qbo,
		accept_difference (see ports.Conflict; button labels in constants.ACTION_LABELS).

		No action may damage either book (invariant 10): every action on a transaction ends with the
		post-action check (BooksCheck.after_action), which leaves both books agreeing for the document or
		keeps one review item that says what still differs. A cancelled ERPNext document is never "updated"
		in QuickBooks: Keep ERPNext / Void in QuickBooks too void it there (fresh SyncToken), Keep QuickBooks
		brings QuickBooks' live version back into ERPNext as a new document."""
		c = self.store.get_conflict(conflict_id)
		if c is None:
			raise SyncError(f"conflict {conflict_id} not found")
		if c.status != C.OPEN:
			raise SyncError(f"conflict {conflict_id} is already {c.status}")
		if action not in (c.actions or []) and action != C.ACTION_DISMISS:
			raise SyncError(f"{action!r} is not available for this item (available: {', '.join(c.actions)})")
		if c.kind == C.UNEXPLAINED_DIFFERENCE and action == C.ACTION_RETRY:
			return self.retry_tie_out_item(c, by)
		ctx = self.services.context(c.realm_id)
		spec = ENTITIES.get(c.local_type) if c.local_type else None
		parked = [e for e in self.store.list_outbox(c.realm_id, states=(C.PARKED,)) if e.conflict_id == c.id]
		now = self.clock.now()
		with self.services.hold(c.realm_id), audit.operation(
			C.OUTBOUND, c.local_type, c.local_id, c.id
		):
			m = self.store.get_mapping(c.realm_id, c.local_type, c.local_id) if spec and c.local_id else None
			local_id = c.local_id
			local = self.books.get_local(ctx, spec.local_type, c.local_id) if spec and c.local_id else None
			cancelled_here = spec is not None and spec.kind == "transaction" and (local or {}).get("state") == "cancelled"
			if action == C.ACTION_ACCEPT_DIFFERENCE:
				self.books.close_parked(parked, "difference accepted")
				self.books.resolve(c, C.RESOLUTION_ACCEPTED_DIFFERENCE, by, now)
				return
			if action in (C.ACTION_VOID_IN_QBO, C.ACTION_KEEP_LOCAL) and cancelled_here and m is not None:
				if m.status == C.ACTIVE:
					self.books.resolve(c, action, by, now)
					self.push_now(ctx, self.requeue_void(ctx, spec, m, parked))
				else:
					self.books.close_parked(parked, f"already {m.status} in QuickBooks")
					self.books.resolve(c, action, by, now)
				self.checks.after_action(ctx, spec, local_id, f"{by}'s choice", c)
				return
			if action == C.ACTION_VOID_IN_QBO:
				raise SyncError("only a document cancelled in ERPNext can be voided in QuickBooks from here")
			if action == C.ACTION_KEEP_QBO and cancelled_here and m is not None and m.status == C.ACTIVE:
				remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
				self.books.close_parked(parked, "QuickBooks version kept")
				self.books.resolve(c, action, by, now)
				if not spec.is_voided(remote):
					local_id = self.restore_from_qbo(ctx, spec, m, remote)
				self.checks.after_action(ctx, spec, local_id, f"{by}'s choice", c)
				return
			if action == C.ACTION_RETRY:
				if not parked and c.qbo_entity in BY_QBO and c.qbo_id and c.kind == "missing_reference":
					# an inbound record that could not be booked: read it again and apply it now
					with audit.operation(C.INBOUND, c.local_type, c.local_id, c.id):
						obj = ctx.client.read(c.qbo_entity, c.qbo_id)
						self.puller.apply_remote(ctx, BY_QBO[c.qbo_entity], obj)
				for e in parked:
					# a rejected write created nothing: a new generation gives it a fresh requestid
					e.generation = self.store.max_generation(c.realm_id, e.local_type, e.local_id) + 1
					e.state, e.next_attempt_at, e.last_error, e.conflict_id = C.PENDING, now, None, None
					e.attempts = 0
					self.store.save_outbox(e)
			elif action == C.ACTION_KEEP_QBO:
				requeue = False
				amend: tuple[dict, dict] | None = None
				if spec is not None and m is not None:
					remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
					remote_c = spec.from_qbo(remote, ctx)
					if spec.kind == "transaction":
						local = self.books.get_local(ctx, spec.local_type, m.local_id) or {}
						if link_differences(spec.local_type, local, remote_c):
							amend = (local, remote_c)
					if spec.kind == "master":
						# take QBO's values for the conflicting fields only; other local changes still go out
						fields = [d["field"] for d in c.diffs or []] or list(R.CONTENT_FIELDS[spec.local_type])
						local = self.books.get_local(ctx, spec.local_type, m.local_id) or {}
						merged = dict(local)
						merged.update({f: remote_c.get(f) for f in fields})
						self.ledger.upsert_from_qbo(ctx.company, spec.local_type, m.local_id, merged)
						requeue = R.content(spec.local_type, merged) != R.content(spec.local_type, remote_c)
					m.base, m.sync_token = remote, remote.get("SyncToken")
					m.remote_hash = R.content_hash(spec.local_type, remote_c)
					self.store.save_mapping(m)
				self.books.close_parked(parked, "QuickBooks version kept")
				if requeue:
					self.books.resolve(c, action, by, now)
					self.services.record_change(c.realm_id, c.local_type, c.local_id, "update")
					return
				if amend is not None:
					# a submitted document is never rewritten by the sync: the books still differ, and that
					# must stay visible until a person has amended ERPNext (or accepts the difference)
					self.books.resolve(c, action, by, now)
					self._amend_local_item(ctx, spec, m, *amend, chosen_by=by)
					return
			elif action == C.ACTION_KEEP_LOCAL:
				if spec is not None and m is not None:
					# the QBO version becomes the ancestor, so the push sends every field that differs locally
					remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
					m.base, m.sync_token = remote, remote.get("SyncToken")
					m.remote_hash = R.content_hash(spec.local_type, spec.from_qbo(remote, ctx))
					m.last_sent_hash = None
					m.status = C.ACTIVE
					self.store.save_mapping(m)
				self.books.close_parked(parked, "superseded: ERPNext's version is sent")
				self.books.resolve(c, action, by, now)
				entry = self.services.record_change(c.realm_id, c.local_type, c.local_id, "update")
				if spec is not None and spec.kind == "transaction":
					self.push_now(ctx, [entry])
					self.checks.after_action(ctx, spec, local_id, f"{by}'s choice", c)
				return
			elif action == C.ACTION_ACCEPT_QBO:
				if spec is not None and c.local_id:
					self.ledger.cancel_from_qbo(ctx.company, spec.local_type, c.local_id, "accepted QuickBooks void/delete")
				self.books.close_parked(parked, "QuickBooks version accepted")
			else:
				self.books.close_parked(parked, "dismissed")
			self.books.resolve(c, action, by, now)
			self.checks.after_action(ctx, spec, local_id, f"{by}'s choice", c)

	def _amend_local_item(self, ctx, spec, m, local: dict, remote_c: dict, *, chosen_by: str) -> None:
		label = LABELS.get(spec.local_type, spec.local_type)
		fields = ", ".join(d["field"] for d in link_differences(spec.local_type, local, remote_c))
		reason = (
			f"{chosen_by} kept QuickBooks' version of {label} {m.local_id}, but the ERPNext document still differs "
			f"({fields}; total {local.get('total')} here, {remote_c.get('total')} in QuickBooks). The sync never "
			f"rewrites a submitted document: cancel and amend it in ERPNext to match (the amendment updates the "
			f"same QuickBooks {label} and closes this item), choose \u201c{C.ACTION_LABELS[C.ACTION_KEEP_LOCAL]}\u201d "
			f"to send the ERPNext version back, or \u201c{C.ACTION_LABELS[C.ACTION_ACCEPT_DIFFERENCE]}\u201d to "
			"leave the books apart knowingly."
		)
		self.books.open_conflict(ctx, spec, m.local_id, m.qbo_id, "amend_local", reason, local, remote_c,
			spec.from_qbo(m.base, ctx) if m.base else None,
			[C.ACTION_KEEP_LOCAL, C.ACTION_ACCEPT_DIFFERENCE, C.ACTION_DISMISS])

	def restore_from_qbo(self, ctx: RealmContext, spec: EntitySpec, m: Mapping, remote: dict) -> str:
		"""Keep QuickBooks on a document cancelled in ERPNext: ERPNext needs QuickBooks' live version back. A
		cancelled document cannot be un-cancelled, so a new one is made from QuickBooks' version and the
		mapping moves to it; the cancelled one stays cancelled (the ERPNext trail of what happened)."""
		remote_c = spec.from_qbo(remote, ctx)
		old_id = m.local_id
		with self.store.transaction():
			new_id = self.ledger.upsert_from_qbo(ctx.company, spec.local_type, None, remote_c)
			self.store.delete_mapping(ctx.realm_id, spec.local_type, old_id)
			self.store.save_mapping(Mapping(realm_id=ctx.realm_id, local_type=spec.local_type, local_id=new_id,
				qbo_entity=spec.qbo_entity, qbo_id=m.qbo_id, sync_token=remote.get("SyncToken"), base=remote,
				remote_hash=R.content_hash(spec.local_type, remote_c), status=C.ACTIVE, updated_at=self.clock.now(),
				origin=m.origin))
			self.books.event(ctx, C.INBOUND, spec, new_id, m.qbo_id, "imported",
				f"QuickBooks' version kept: {old_id} stays cancelled, {new_id} replaces it")
		return new_id

	def requeue_void(self, ctx: RealmContext, spec: EntitySpec, m: Mapping, parked: list[OutboxEntry]) -> list[OutboxEntry]:
		"""Send the cancel of a cancelled document again, with a fresh SyncToken (re-read now), and never an
		update: the person chose to void it in QuickBooks, not to rewrite it there first."""
		remote = ctx.client.read(spec.qbo_entity, m.qbo_id)
		m.sync_token, m.base = remote.get("SyncToken"), remote
		m.remote_hash = R.content_hash(spec.local_type, spec.from_qbo(remote, ctx))
		self.store.save_mapping(m)
		cancels = [e for e in parked if e.action not in ("create", "update")]
		for e in parked:
			if e not in cancels:
				e.state, e.last_error = C.DONE, "superseded: the document is cancelled; its cancel is sent instead"
				self.store.save_outbox(e)
		now = self.clock.now()
		if not cancels:
			from nexora_qbo.sync.outbox import record_change

			cancels = [record_change(self.store, ctx.realm_id, spec.local_type, m.local_id, "cancel", now)]
		for e in cancels:
			e.generation = self.store.max_generation(ctx.realm_id, e.local_type, e.local_id) + 1
			e.state, e.next_attempt_at, e.last_error, e.conflict_id, e.attempts = C.PENDING, now, None, None, 0
			self.store.save_outbox(e)
		ctx.chosen_voids.add((spec.local_type, m.local_id))
		return cancels

	def push_now(self, ctx: RealmContext, entries: list[OutboxEntry]) -> None:
		"""Send the entries a review action queued right away (the caller holds the realm lock), so the
		post-action check sees the result; a transient failure leaves them to the next push."""
		for e in entries:
			fresh = self.store.get_outbox(e.id) if e.id else None
			if fresh is not None and fresh.state in C.OPEN_STATES:
				self.pusher.push_entry(ctx, fresh)
				self.checkpoint()

	def retry_tie_out_item(self, c, by: str) -> None:
		"""Retry on an unexplained difference: catch up with QBO (pull), compare that document again and
		resolve the item when the difference is gone; otherwise it stays open with the amounts refreshed."""
		from nexora_qbo.sync.tieout import TieOutRun, _item_key

		self.puller.pull(c.realm_id)
		with self.services.hold(c.realm_id):
			run = TieOutRun(self.services, c.realm_id, self.clock.now().date())
			run.reconcile_items(run.compare(), only=_item_key(c))
			fresh = self.store.get_conflict(c.id)
			if fresh is not None and fresh.status == C.RESOLVED:
				fresh.resolved_by, fresh.resolution = by, C.ACTION_RETRY
				self.store.save_conflict(fresh)


__all__ = ["PENDING_EDIT_KINDS", "Reviewer"]
