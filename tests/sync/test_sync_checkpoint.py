"""The engine makes its progress durable at safe points through the `checkpoint` hook.

Frappe commits only when a job ends; without a checkpoint between "in_flight" and the HTTP create, a worker
killed after QBO accepted the record would leave no trace that the attempt happened. These tests record, at
every checkpoint, what the store held and what QBO had already received.
"""
from __future__ import annotations

from nexora_qbo.sync import constants as C

CO = "Nexora Staffing Inc"


def test_in_flight_is_checkpointed_before_the_create_reaches_qbo(harness, realm, sandbox):
	customer = harness.ledger.create_customer(CO, "Checkpoint Clinic", email="ops@checkpoint.example")
	harness.engine.export_master(realm, C.CUSTOMER, customer)  # this realm's Company uses it
	seen: list[tuple[str, int]] = []

	def checkpoint():
		entries = harness.store.list_outbox(realm, local_type="customer", local_id=customer)
		qbo_matches = harness.count(realm, "SELECT * FROM Customer WHERE DisplayName = 'Checkpoint Clinic'")
		seen.append((entries[0].state, qbo_matches))

	harness.engine.checkpoint = checkpoint
	harness.engine.push(realm)

	assert ("in_flight", 0) in seen, "in_flight must be made durable before QBO has the record"
	assert seen[-1] == ("done", 1), "the finished entry (and its mapping) is made durable after the write"


def test_each_imported_record_is_checkpointed(harness, realm):
	calls: list[int] = []
	harness.engine.checkpoint = lambda: calls.append(len(harness.store.list_mappings(realm, "customer")))

	counts = harness.engine.initial_import(realm)

	imported = counts.get("imported", 0) + counts.get("linked", 0)
	assert imported > 0
	assert len(calls) >= imported
	assert calls[0] == 1, "the first checkpoint comes right after the first record, not at the end"
