"""What every collaborator of the engine works over: the ports (store, ledger, clock, lock), the realm
clients, and the per-realm context.

Why a module of its own: Push, Pull, Review and GoLive used to be mixins of SyncEngine, sharing its `self`
and calling each other's private methods, so engine, push and pull imported each other. Now each of them is
a collaborator with one job that receives an `EngineServices` (and the few other collaborators it really
needs) explicitly; this module imports none of them. The only thing that still points "back" is the
reference resolution of a RealmContext (a record we have not seen yet is imported on demand): that is a
port, `EngineServices.importer`, wired by the SyncEngine facade to the Puller.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nexora_qbo.sync import constants as C
from nexora_qbo.sync.audit import AuditRecorder
from nexora_qbo.sync.entities import BY_QBO
from nexora_qbo.sync.errors import DependencyPending, RealmNotConfigured, SyncError
from nexora_qbo.sync.merge import LABELS
from nexora_qbo.sync.outbox import record_change
from nexora_qbo.sync.ports import Clock, Ledger, OutboxEntry, RealmLock, RealmSettings, Store


class EngineServices:
	"""The engine's ports and realm clients, shared by its collaborators (the facade's attributes point here,
	so a test that swaps `engine.clock` or `engine.checkpoint` changes them for every collaborator)."""

	def __init__(self, store: Store, ledger: Ledger, client_for: Callable[[str, Callable[[Any], None]], Any],
			lock: RealmLock, clock: Clock, *, lock_timeout: float | None = 30.0,
			checkpoint: Callable[[], None] | None = None):
		self.store = store
		self.ledger = ledger
		self.client_for = client_for
		self.lock = lock
		self.clock = clock
		self.lock_timeout = lock_timeout
		self.checkpoint = checkpoint or (lambda: None)
		self.clients: dict[str, Any] = {}
		# imports one QBO record on demand (RealmContext.local_ref); wired to the Puller by the facade
		self.importer: Callable[[RealmContext, Any, dict], str] | None = None

	def hold(self, realm_id: str):
		"""The realm lock (invariant: one worker per realm at a time)."""
		return self.lock.hold(realm_id, timeout=self.lock_timeout)

	def settings(self, realm_id: str) -> RealmSettings:
		s = self.store.get_settings(realm_id)
		if s is None or not s.enabled:
			raise RealmNotConfigured(f"realm {realm_id} is not connected or is disabled")
		return s

	def context(self, realm_id: str) -> RealmContext:
		return RealmContext(self, self.settings(realm_id))

	def client(self, realm_id: str) -> Any:
		if realm_id not in self.clients:
			self.clients[realm_id] = self.client_for(realm_id, AuditRecorder(self.store, realm_id))
		return self.clients[realm_id]

	def record_change(self, realm_id: str, local_type: str, local_id: str, action: str) -> OutboxEntry:
		"""Record an intent (what doc_events do, inside the document's transaction). No HTTP."""
		self.settings(realm_id)
		return record_change(self.store, realm_id, local_type, local_id, action, self.clock.now())

	def export_master(self, realm_id: str, local_type: str, local_id: str) -> OutboxEntry:
		"""A person's explicit choice to send one customer or item to this realm before any of the realm
		Company's documents uses it (masters are global; they never go to every realm on their own). Records
		the intent only (no HTTP); the next push sends it, linking an existing QBO record by stable key."""
		if local_type not in (C.CUSTOMER, C.ITEM):
			raise SyncError(f"only customers and items can be exported on their own, not {local_type}")
		ctx = self.context(realm_id)
		if self.ledger.get(ctx.company, local_type, local_id) is None:
			raise SyncError(f"{LABELS.get(local_type, local_type)} {local_id} does not exist")
		action = "update" if self.store.get_mapping(realm_id, local_type, local_id) is not None else "create"
		return self.record_change(realm_id, local_type, local_id, action)


class Collaborator:
	"""Base of the engine's collaborators: read access to the shared services, nothing else."""

	def __init__(self, services: EngineServices):
		self.services = services

	@property
	def store(self) -> Store:
		return self.services.store

	@property
	def ledger(self) -> Ledger:
		return self.services.ledger

	@property
	def clock(self) -> Clock:
		return self.services.clock

	def checkpoint(self) -> None:
		self.services.checkpoint()


class RealmContext:
	"""Per-realm view used while syncing: settings, client, and reference resolution (the entity Resolver)."""

	def __init__(self, services: EngineServices, settings: RealmSettings):
		self.services = services
		self.settings = settings
		self.realm_id = settings.realm_id
		self.company = settings.company
		self._importing: set[tuple[str, str]] = set()
		# local types with creates sent but unacknowledged (see Pusher.settle_unacknowledged_creates)
		self.unacknowledged: frozenset[str] = frozenset()
		# (local_type, local_id) whose QBO void a person chose explicitly (review action): no second question
		self.chosen_voids: set[tuple[str, str]] = set()

	@property
	def client(self) -> Any:
		return self.services.client(self.realm_id)

	def qbo_ref(self, local_type: str, local_id: str) -> str:
		m = self.services.store.get_mapping(self.realm_id, local_type, local_id)
		if m is None:
			raise DependencyPending(f"waiting for {local_type} {local_id} to reach QuickBooks", local_type, local_id)
		return m.qbo_id

	def local_ref(self, qbo_entity: str, qbo_id: str) -> str:
		"""Local id of a QBO record; a record we have not seen yet (a customer created in QBO, the invoice a
		QBO payment pays) is read and imported first, so the referencing record can be booked."""
		store = self.services.store
		m = store.get_mapping_by_qbo(self.realm_id, qbo_entity, str(qbo_id))
		if m is not None:
			return m.local_id
		key = (qbo_entity, str(qbo_id))
		if key in self._importing:
			raise SyncError(f"circular reference while importing {qbo_entity} {qbo_id}")
		spec = BY_QBO.get(qbo_entity)
		if spec is None:
			raise SyncError(f"{qbo_entity} is not synced")
		if self.services.importer is None:
			raise SyncError(f"QuickBooks {qbo_entity} {qbo_id} is not in ERPNext and cannot be imported here")
		self._importing.add(key)
		try:
			obj = self.client.read(qbo_entity, str(qbo_id))
			self.services.importer(self, spec, obj)
		finally:
			self._importing.discard(key)
		m = store.get_mapping_by_qbo(self.realm_id, qbo_entity, str(qbo_id))
		if m is None:
			raise SyncError(f"it refers to QuickBooks {qbo_entity} {qbo_id}, which is not in ERPNext (it may be dated "
				f"before the sync start date, or voided)")
		return m.local_id


__all__ = ["Collaborator", "EngineServices", "RealmContext"]
