"""The Store contract: behaviour every implementation of `nexora_qbo.sync.ports.Store` must have.

Reusable by any test runner: subclass `StoreContract` together with your TestCase class and implement
`make_store()` (a fresh, empty store per call). It uses plain `assert` statements and no fixtures, so it runs
under pytest (the SQLite store, tests/sync/test_sync_store_contract.py) and under unittest / FrappeTestCase
(the Frappe store):

	class TestFrappeStoreContract(StoreContract, FrappeTestCase):
		def make_store(self):
			return FrappeStore()

Only `nexora_qbo.sync` is imported here, so the file can also be loaded by path.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

from nexora_qbo.sync.ports import AuditRow, Conflict, Cursor, Mapping, OutboxEntry, RealmSettings, SyncEvent

T0 = datetime(2026, 11, 2, 15, 30, tzinfo=timezone.utc)


class _Boom(Exception):
	pass


class StoreContract:
	"""Mixin: define make_store(); every test_* method checks one promise of the Store port.

	Realm ids and company names are class attributes so that an implementation whose settings must point at
	real Company records (Frappe) can substitute its test companies. Use realm ids that no other test uses:
	the assertions expect the store to hold nothing else for them."""

	REALM_1, REALM_2, REALM_3 = "R1", "R2", "R3"
	COMPANY_1, COMPANY_2 = "Co One", "Co Two"

	def make_store(self):  # pragma: no cover - implemented by the concrete test class
		raise NotImplementedError

	# helpers --------------------------------------------------------------------------------------------
	def _store(self):
		store = self.make_store()
		store.save_settings(RealmSettings(realm_id=self.REALM_1, company=self.COMPANY_1))
		store.save_settings(RealmSettings(realm_id=self.REALM_2, company=self.COMPANY_2))
		return store

	def _mapping(self, realm=None, local_id="CUST-1", qbo_id="10", **kw) -> Mapping:
		return Mapping(realm_id=realm or self.REALM_1, local_type="customer", local_id=local_id, qbo_entity="Customer", qbo_id=qbo_id,
			sync_token=kw.pop("sync_token", "0"), base=kw.pop("base", {"Id": qbo_id, "Balance": Decimal("12.50")}),
			status="active", updated_at=T0, **kw)

	# settings -------------------------------------------------------------------------------------------
	def test_settings_round_trip(self):
		store = self.make_store()
		s = RealmSettings(realm_id=self.REALM_1, company=self.COMPANY_1, conflict_policy="review", void_policy="follow",
			qbo_born_cancel_policy="follow", default_income_account_id="79", account_map={"Sales": "79"}, terms_map={"Net 30": "3"},
			sync_start_date=T0.date())
		store.save_settings(s)
		got = store.get_settings(self.REALM_1)
		assert got == s
		assert store.realm_for_company(self.COMPANY_1) == self.REALM_1
		assert store.get_settings("nope") is None
		assert self.REALM_1 in store.list_realms() and self.REALM_2 not in store.list_realms()

	def test_reference_lists_replace_per_realm_and_keep_vanished_rows_inactive(self):
		store = self.make_store()
		store.save_settings(RealmSettings(realm_id=self.REALM_1, company=self.COMPANY_1))
		store.save_settings(RealmSettings(realm_id=self.REALM_2, company=self.COMPANY_2))
		store.save_references(self.REALM_1, "Class", [
			{"ref_type": "Class", "qbo_id": "1", "name": "Clerical", "full_name": "Clerical", "active": True},
			{"ref_type": "Class", "qbo_id": "2", "name": "Healthcare", "full_name": "Healthcare", "active": True},
		])
		store.save_references(self.REALM_2, "Class", [{"ref_type": "Class", "qbo_id": "1", "name": "Other", "active": True}])
		store.save_references(self.REALM_1, "Class", [
			{"ref_type": "Class", "qbo_id": "1", "name": "Clerical Staff", "full_name": "Clerical Staff", "active": True},
		])
		rows = {r["qbo_id"]: r for r in store.list_references(self.REALM_1, "Class")}
		assert rows["1"]["name"] == "Clerical Staff" and rows["1"]["active"] is True
		assert rows["2"]["active"] is False  # gone from QBO: kept, inactive
		assert [r["name"] for r in store.list_references(self.REALM_2)] == ["Other"]

	def test_company_belongs_to_one_realm(self):
		store = self._store()
		try:
			store.save_settings(RealmSettings(realm_id=self.REALM_3, company=self.COMPANY_1))
		except ValueError:
			pass
		else:
			raise AssertionError("a company was bound to a second realm")
		assert store.realm_for_company(self.COMPANY_1) == self.REALM_1

	# mappings -------------------------------------------------------------------------------------------
	def test_mapping_round_trip_and_lookup_both_ways(self):
		store = self._store()
		store.save_mapping(self._mapping())
		m = store.get_mapping(self.REALM_1, "customer", "CUST-1")
		assert m.qbo_id == "10" and m.sync_token == "0"
		assert m.base == {"Id": "10", "Balance": Decimal("12.50")}
		assert isinstance(m.base["Balance"], Decimal)
		assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "10").local_id == "CUST-1"
		m.sync_token, m.last_sent_hash = "3", "abc"
		store.save_mapping(m)
		again = store.get_mapping(self.REALM_1, "customer", "CUST-1")
		assert (again.sync_token, again.last_sent_hash) == ("3", "abc")
		assert [x.local_id for x in store.list_mappings(self.REALM_1, "customer")] == ["CUST-1"]
		store.delete_mapping(self.REALM_1, "customer", "CUST-1")
		assert store.get_mapping(self.REALM_1, "customer", "CUST-1") is None

	def test_mapping_origin_round_trips_and_defaults_to_unknown(self):
		"""Where a document was born (issue 7: an ERPNext cancel never voids a QBO-born one as a side effect)."""
		store = self._store()
		store.save_mapping(self._mapping(local_id="CUST-1", qbo_id="10"))
		store.save_mapping(self._mapping(local_id="CUST-2", qbo_id="11", origin="qbo"))
		assert store.get_mapping(self.REALM_1, "customer", "CUST-1").origin is None
		assert store.get_mapping(self.REALM_1, "customer", "CUST-2").origin == "qbo"
		assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "11").origin == "qbo"
		m = store.get_mapping(self.REALM_1, "customer", "CUST-1")
		m.origin = "local"
		store.save_mapping(m)
		assert store.get_mapping(self.REALM_1, "customer", "CUST-1").origin == "local"

	def test_mappings_are_keyed_by_realm(self):
		store = self._store()
		store.save_mapping(self._mapping(self.REALM_1, "CUST-1", "10"))
		store.save_mapping(self._mapping(self.REALM_2, "CUST-1", "10", sync_token="7"))
		assert store.get_mapping(self.REALM_1, "customer", "CUST-1").sync_token == "0"
		assert store.get_mapping(self.REALM_2, "customer", "CUST-1").sync_token == "7"
		assert store.get_mapping_by_qbo(self.REALM_2, "Customer", "10").sync_token == "7"
		assert store.list_mappings(self.REALM_1) and all(m.realm_id == self.REALM_1 for m in store.list_mappings(self.REALM_1))
		assert store.get_mapping(self.REALM_3, "customer", "CUST-1") is None

	def test_mapped_qbo_ids_per_realm_and_type_with_their_status(self):
		store = self._store()
		store.save_mapping(self._mapping(self.REALM_1, "CUST-1", "10"))
		gone = self._mapping(self.REALM_1, "CUST-2", "11")
		gone.status = "deleted"
		store.save_mapping(gone)
		store.save_mapping(self._mapping(self.REALM_2, "CUST-3", "12"))
		assert store.mapped_qbo_ids(self.REALM_1, "customer") == {"10": "active", "11": "deleted"}
		assert store.mapped_qbo_ids(self.REALM_1, "item") == {}
		assert store.mapped_qbo_ids(self.REALM_3, "customer") == {}

	def test_a_mapping_read_again_after_a_write_or_a_rollback_is_what_the_store_holds(self):
		"""A store may keep mappings it has read (the Frappe store keeps customers' and items' for a job): a read
		after a write sees the write, and a read after the write was rolled back sees the old row again."""
		store = self._store()
		store.save_mapping(self._mapping(self.REALM_1, "CUST-1", "10"))
		assert store.get_mapping(self.REALM_1, "customer", "CUST-1").sync_token == "0"
		store.save_mapping(self._mapping(self.REALM_1, "CUST-1", "10", sync_token="3"))
		assert store.get_mapping(self.REALM_1, "customer", "CUST-1").sync_token == "3"
		try:
			with store.transaction():
				store.save_mapping(self._mapping(self.REALM_1, "CUST-1", "10", sync_token="5"))
				assert store.get_mapping(self.REALM_1, "customer", "CUST-1").sync_token == "5"
				raise _Boom()
		except _Boom:
			pass
		assert store.get_mapping(self.REALM_1, "customer", "CUST-1").sync_token == "3"
		store.delete_mapping(self.REALM_1, "customer", "CUST-1")
		assert store.get_mapping(self.REALM_1, "customer", "CUST-1") is None

	def settle(self, store) -> None:
		"""The job's transaction committed (a store may start keeping the rows it reads from here on)."""

	def test_a_mapping_found_by_its_qbo_id_follows_writes_and_rollbacks(self):
		"""The Frappe store keeps customers' and items' rows by QBO id too (every pushed invoice resolves its
		references back): a re-pointed or deleted mapping is never found under its old QBO id, and a rolled
		back delete finds the row again."""
		store = self._store()
		store.save_mapping(self._mapping(self.REALM_1, "CUST-1", "10"))
		self.settle(store)
		assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "10").local_id == "CUST-1"
		assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "10").local_id == "CUST-1"  # (kept)
		store.save_mapping(self._mapping(self.REALM_1, "CUST-1", "12", sync_token="2"))
		assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "10") is None
		assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "12").sync_token == "2"
		self.settle(store)
		assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "12").local_id == "CUST-1"
		try:
			with store.transaction():
				store.delete_mapping(self.REALM_1, "customer", "CUST-1")
				assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "12") is None
				raise _Boom()
		except _Boom:
			pass
		assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "12").local_id == "CUST-1"
		store.save_mapping(self._mapping(self.REALM_1, "CUST-2", "14"))
		self.settle(store)
		assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "14").local_id == "CUST-2"
		store.delete_mapping(self.REALM_1, "customer", "CUST-2")
		assert store.get_mapping_by_qbo(self.REALM_1, "Customer", "14") is None
		assert store.get_mapping_by_qbo(self.REALM_2, "Customer", "12") is None

	def test_a_document_read_while_unmapped_is_found_once_mapped(self):
		"""The Frappe store remembers a document it found unmapped (a push asks several times before the
		create): its own write, a rolled back write and a delete are all seen by the next read."""
		store = self._store()
		inv = lambda qid, **kw: Mapping(realm_id=self.REALM_1, local_type="invoice", local_id="INV-1",  # noqa: E731
			qbo_entity="Invoice", qbo_id=qid, sync_token=kw.get("sync_token", "0"), base={"Id": qid}, status="active",
			updated_at=T0)
		assert store.get_mapping(self.REALM_1, "invoice", "INV-1") is None
		self.settle(store)
		assert store.get_mapping(self.REALM_1, "invoice", "INV-1") is None
		try:
			with store.transaction():
				store.save_mapping(inv("40"))
				assert store.get_mapping(self.REALM_1, "invoice", "INV-1").qbo_id == "40"
				raise _Boom()
		except _Boom:
			pass
		assert store.get_mapping(self.REALM_1, "invoice", "INV-1") is None
		self.settle(store)
		assert store.get_mapping(self.REALM_1, "invoice", "INV-1") is None
		store.save_mapping(inv("41"))
		assert store.get_mapping(self.REALM_1, "invoice", "INV-1").qbo_id == "41"
		self.settle(store)
		store.delete_mapping(self.REALM_1, "invoice", "INV-1")
		assert store.get_mapping(self.REALM_1, "invoice", "INV-1") is None
		self.settle(store)
		store.save_mapping(inv("42"))
		assert store.get_mapping(self.REALM_1, "invoice", "INV-1").qbo_id == "42"

	def test_one_qbo_record_maps_to_one_local_document(self):
		store = self._store()
		store.save_mapping(self._mapping(self.REALM_1, "CUST-1", "10"))
		try:
			store.save_mapping(self._mapping(self.REALM_1, "CUST-2", "10"))
		except ValueError:
			pass
		else:
			raise AssertionError("two local documents were mapped to one QBO record")

	# cursor ---------------------------------------------------------------------------------------------
	def test_cursor_round_trip(self):
		store = self._store()
		assert store.get_cursor(self.REALM_1) is None
		store.save_cursor(Cursor(realm_id=self.REALM_1, changed_since=T0, seen={"Invoice:5": "2"}, updated_at=T0))
		c = store.get_cursor(self.REALM_1)
		assert c.changed_since == T0 and c.seen == {"Invoice:5": "2"}
		c.changed_since = T0 + timedelta(minutes=5)
		store.save_cursor(c)
		assert store.get_cursor(self.REALM_1).changed_since == T0 + timedelta(minutes=5)
		assert store.get_cursor(self.REALM_2) is None

	# outbox ---------------------------------------------------------------------------------------------
	def test_outbox_insertion_order_filters_and_updates(self):
		store = self._store()
		a = store.add_outbox(OutboxEntry(self.REALM_1, "customer", "C1", "create", created_at=T0, next_attempt_at=T0))
		b = store.add_outbox(OutboxEntry(self.REALM_1, "invoice", "I1", "create", created_at=T0, next_attempt_at=T0))
		store.add_outbox(OutboxEntry(self.REALM_2, "customer", "C1", "create", created_at=T0))
		assert a.id is not None and b.id is not None and a.id != b.id
		assert [e.local_id for e in store.list_outbox(self.REALM_1)] == ["C1", "I1"]
		assert [e.local_id for e in store.list_outbox(self.REALM_1, local_type="invoice")] == ["I1"]
		a.state, a.attempts, a.last_error = "in_flight", 1, None
		store.save_outbox(a)
		assert store.get_outbox(a.id).state == "in_flight"
		assert [e.local_id for e in store.list_outbox(self.REALM_1, states=["pending"])] == ["I1"]
		assert store.max_generation(self.REALM_1, "customer", "C1") == 1
		assert store.max_generation(self.REALM_1, "customer", "nope") == 0

	# transactions and audit ------------------------------------------------------------------------------
	def test_transaction_rolls_back_together(self):
		store = self._store()
		try:
			with store.transaction():
				store.save_mapping(self._mapping())
				store.add_outbox(OutboxEntry(self.REALM_1, "customer", "CUST-1", "update", created_at=T0))
				raise _Boom()
		except _Boom:
			pass
		assert store.get_mapping(self.REALM_1, "customer", "CUST-1") is None
		assert store.list_outbox(self.REALM_1) == []
		with store.transaction(), store.transaction():  # nesting joins the outer transaction
			store.save_mapping(self._mapping())
		assert store.get_mapping(self.REALM_1, "customer", "CUST-1") is not None

	def test_audit_rows_survive_a_rollback_and_keep_every_field(self):
		store = self._store()
		row = AuditRow(realm_id=self.REALM_1, direction="outbound", qbo_entity="Invoice", operation="create",
			local_type="invoice", local_id="SINV-1", qbo_id="130", http_method="POST", url="/v3/company/R1/invoice",
			request_payload='{"Line":[]}', response_payload='{"Invoice":{}}', http_status=200, sync_token_sent=None,
			sync_token_received="0", request_id="nxcr123g1", intuit_tid="1-abc", outcome="ok", error_code=None,
			conflict_id="7", attempt=2, duration_ms=12.5, timestamp=T0)
		try:
			with store.transaction():
				store.append_audit(row)
				raise _Boom()
		except _Boom:
			pass
		rows = store.list_audit(self.REALM_1)
		assert len(rows) == 1
		got = rows[0]
		assert got.id is not None
		for name in ("direction", "qbo_entity", "operation", "local_type", "local_id", "qbo_id", "request_payload",
				"response_payload", "http_status", "sync_token_received", "request_id", "intuit_tid", "outcome",
				"conflict_id", "attempt", "duration_ms", "timestamp"):
			assert getattr(got, name) == getattr(row, name), name
		assert store.list_audit(self.REALM_2) == []
		assert store.list_audit(self.REALM_1, since=T0 + timedelta(seconds=1)) == []
		assert len(store.list_audit(self.REALM_1, since=T0, until=T0 + timedelta(seconds=1))) == 1

	def test_audit_summary_counts_outcomes_and_error_codes_per_realm_and_period(self):
		store = self._store()
		def row(realm, outcome, code, at):
			return AuditRow(realm_id=realm, direction="outbound", qbo_entity="Invoice", operation="create",
				outcome=outcome, error_code=code, timestamp=at)
		for r in (row(self.REALM_1, "ok", None, T0), row(self.REALM_1, "ok", None, T0 + timedelta(seconds=1)),
				row(self.REALM_1, "ValidationError", "6000", T0), row(self.REALM_1, "ValidationError", "6000", T0),
				row(self.REALM_1, "ThrottleError", None, T0), row(self.REALM_1, "ok", None, T0 + timedelta(days=40)),
				row(self.REALM_2, "ok", None, T0)):
			store.append_audit(r)
		got = store.audit_summary(self.REALM_1, since=T0, until=T0 + timedelta(days=1))
		assert [(o, c, n) for o, c, n in got] == [("ThrottleError", None, 1), ("ValidationError", "6000", 2), ("ok", None, 2)]
		assert sum(n for *_, n in store.audit_summary(self.REALM_1)) == 6
		assert store.audit_summary(self.REALM_2, since=T0 + timedelta(days=1)) == []

	# events and conflicts ---------------------------------------------------------------------------------
	def test_events_by_period(self):
		store = self._store()
		store.add_event(SyncEvent(self.REALM_1, "outbound", "invoice", "I1", "Invoice", "5", "created", timestamp=T0))
		store.add_event(SyncEvent(self.REALM_1, "inbound", "payment", "P1", "Payment", "9", "imported",
			timestamp=T0 + timedelta(days=40)))
		assert [e.action for e in store.list_events(self.REALM_1, T0, T0 + timedelta(days=30))] == ["created"]
		assert len(store.list_events(self.REALM_1)) == 2 and store.list_events(self.REALM_2) == []

	def test_conflicts_round_trip_and_filter(self):
		store = self._store()
		c = store.add_conflict(Conflict(realm_id=self.REALM_1, local_type="invoice", local_id="I1", qbo_entity="Invoice",
			qbo_id="5", kind="transaction_edited", reason="changed in QuickBooks",
			local_version={"total": "10.00"}, qbo_version={"total": "12.00"}, diffs=[{"field": "total"}],
			actions=["keep_qbo", "keep_local"], created_at=T0))
		assert c.id is not None
		assert [x.id for x in store.list_conflicts(self.REALM_1, status="open")] == [c.id]
		c.status, c.resolution, c.resolved_by, c.resolved_at = "resolved", "keep_qbo", "jane", T0
		store.save_conflict(c)
		got = store.get_conflict(c.id)
		assert (got.status, got.resolution, got.resolved_by, got.resolved_at) == ("resolved", "keep_qbo", "jane", T0)
		assert got.qbo_version == {"total": "12.00"} and got.actions == ["keep_qbo", "keep_local"]
		assert store.list_conflicts(self.REALM_1, status="open") == []
		assert store.list_conflicts(self.REALM_1, local_type="invoice", local_id="I1")[0].id == c.id
		assert store.list_conflicts(self.REALM_2) == []

	# AR tie-outs ----------------------------------------------------------------------------------------
	def _tie_out_summary(self, realm, as_of, difference="0.00", unexplained=0):
		return {
			"realm_id": realm, "company": self.COMPANY_1, "as_of": as_of.isoformat(), "run_at": T0.isoformat(),
			"totals": {"home_currency": "USD", "home": {"erpnext": Decimal("425.00"), "qbo": Decimal("425.00") -
				Decimal(difference), "difference": Decimal(difference)}, "by_currency": {}},
			"counts": {"documents": 5, "customers": 2, "differences": 1 if unexplained else 0,
				"document_differences": unexplained, "customer_differences": 0, "unexplained": unexplained,
				"requests": 4},
			"differences": [{"level": "document", "local_type": "invoice", "local_id": "SINV-1", "qbo_entity":
				"Invoice", "qbo_id": "7", "erpnext": Decimal("500.00"), "qbo": Decimal("380.00"),
				"difference": Decimal("120.00"), "cause": "unexplained", "explanation": "differs"}] if unexplained else [],
		}

	def test_tie_outs_are_kept_one_per_realm_and_day(self):
		store = self._store()
		d1, d2, d3 = T0.date(), T0.date() + timedelta(days=1), T0.date() + timedelta(days=2)
		store.save_tie_out(self.REALM_1, d1, self._tie_out_summary(self.REALM_1, d1, "120.00", unexplained=1))
		store.save_tie_out(self.REALM_1, d2, self._tie_out_summary(self.REALM_1, d2))
		store.save_tie_out(self.REALM_2, d2, self._tie_out_summary(self.REALM_2, d2))
		kept = store.list_tie_outs(self.REALM_1)
		assert [s["as_of"] for s in kept] == [d1.isoformat(), d2.isoformat()]
		assert kept[0]["totals"]["home"]["difference"] == Decimal("120.00")
		assert kept[0]["counts"]["unexplained"] == 1
		assert kept[0]["differences"][0]["qbo"] == Decimal("380.00")
		# re-running a day replaces it
		store.save_tie_out(self.REALM_1, d1, self._tie_out_summary(self.REALM_1, d1))
		kept = store.list_tie_outs(self.REALM_1)
		assert len(kept) == 2 and kept[0]["counts"]["unexplained"] == 0 and kept[0]["differences"] == []
		assert [s["as_of"] for s in store.list_tie_outs(self.REALM_1, d2, d3)] == [d2.isoformat()]
		assert [s["as_of"] for s in store.list_tie_outs(self.REALM_1, None, d1)] == [d1.isoformat()]
		assert [s["realm_id"] for s in store.list_tie_outs(self.REALM_2)] == [self.REALM_2]
		assert store.list_tie_outs(self.REALM_3) == []
