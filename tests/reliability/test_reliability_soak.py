"""A seeded soak run: 2,100 operations over three companies (three QBO realms) with injected throttles, 5xx,
connection resets, responses lost after commit, and a bookkeeper editing ~10 % of the customers and invoices
in QBO (half of her edits land in the middle of an engine push/pull). Then faults off, drain until quiescent,
and check every invariant the architecture promises, each as its own test so a failure names the invariant.

Reproduce a run: NEXORA_RELIABILITY_SEED=<seed> /work/venv/bin/python -m pytest tests/reliability -q
(the sandbox clock is frozen and moved by the workload, so the same seed replays the same requests and faults;
test_same_seed_replays_the_same_run proves it). NEXORA_RELIABILITY_STEPS overrides the number of operations.
"""

from __future__ import annotations

import json
import os

import pytest

from nexora_qbo.sync import constants as C
from reliability_kit import (
	KNOWN_FINDINGS,
	Workload,
	World,
	audit_accounting,
	check_audit,
	check_duplicates,
	check_nothing_lost,
	check_outbox_settled,
	check_overwrites,
	check_realm_isolation,
	check_reviews_explained,
	check_tie_out,
	fmt,
	summary,
)

SEED = int(os.environ.get("NEXORA_RELIABILITY_SEED", "20261124"))
STEPS = int(os.environ.get("NEXORA_RELIABILITY_STEPS", "2100"))


@pytest.fixture(scope="module")
def soak(tmp_path_factory):
	w = World(tmp_path_factory.mktemp("soak"), SEED)
	wl = Workload(w, SEED)
	wl.setup()
	wl.run(STEPS, faults=True)
	rounds = w.drain()
	s = summary(w, wl.o)
	s["drain_rounds"] = rounds
	print(f"\nsoak summary (seed {SEED}):\n{json.dumps(s, indent=1, default=str)}")
	yield w, wl, s
	w.close()


def _assert_none(name: str, violations: list[str]) -> None:
	assert not violations, f"seed {SEED}: {fmt({name: violations}, 25)}"


def test_the_run_exercised_what_it_claims(soak):
	"""Guard against a silently weak run: ≥ 2,000 operations over 3 realms, every fault kind injected in
	every realm, ~10 % of customers+invoices edited by the bookkeeper, some mid-sync, some racing a local edit
	of the same field, token expiries, and the drain reaching quiescence."""
	w, _wl, s = soak
	assert s["steps"] >= 2000 and len(w.realms) == 3
	for tag, faults in s["faults"].items():
		for kind in ("throttle", "error500", "error503", "reset", "lost_response"):
			assert faults.get(kind, 0) > 0, (tag, kind, faults)
	share = s["records_edited_by_bookkeeper"] / s["customers+invoices"]
	assert 0.08 <= share <= 0.2, s
	assert s["bookkeeper_mid_sync_edits"] >= 20, s
	assert s["local_edits_superseded_by_bookkeeper"] >= 5, s  # both sides edited one field: hers must win
	assert all(a["engine_401"] > 0 and a["engine_dropped"] > 0 for a in s["audit"].values()), s["audit"]
	for op in ("invoice", "payment", "credit_note", "cancel", "update_customer", "push", "pull", "sync"):
		assert s["ops"].get(op, 0) > 0, op
	assert s["drain_rounds"] < 12, "the engine never became quiescent"


def test_no_duplicates_in_qbo(soak):
	w, wl, _ = soak
	_assert_none("duplicates", check_duplicates(w, wl.o))


def test_nothing_lost(soak):
	w, wl, _ = soak
	_assert_none("lost", check_nothing_lost(w, wl.o))


def test_no_bookkeeper_edit_overwritten(soak):
	w, wl, _ = soak
	assert len(wl.o.bk_edits) > 50
	_assert_none("overwritten", check_overwrites(w, wl.o))


def test_no_cross_realm_writes(soak):
	w, _wl, _ = soak
	_assert_none("cross_realm", check_realm_isolation(w))


def test_one_audit_row_per_exchange(soak):
	"""The sandbox counted exactly the requests the tap saw (engine + bookkeeper), and the engine's audit rows
	match its requests one to one, by request line; dropped connections appear as status-less rows."""
	w, _wl, _ = soak
	_assert_none("audit", check_audit(w))
	for rid in w.realms:
		a = audit_accounting(w, rid)
		assert (
			a["audit_rows"] == a["engine_requests_seen"]
			and a["audit_connection_failed"] == a["engine_dropped"]
		), a


def test_every_document_synced_or_in_review(soak):
	w, _wl, _ = soak
	_assert_none("unsettled", check_outbox_settled(w))


def test_same_seed_replays_the_same_run(tmp_path):
	"""Reproducibility: two runs with one seed produce the same requests, faults, outcomes and QBO ids."""
	prints = []
	for n in (1, 2):
		w = World(tmp_path / f"run{n}", SEED + 1)
		try:
			wl = Workload(w, SEED + 1)
			wl.setup()
			wl.run(250)
			w.drain()
			prints.append(w.fingerprint())
		finally:
			w.close()
	assert prints[0] == prints[1]
	assert sum(sum(v["faults"].values()) for v in prints[0].values()) > 10


def test_review_items_are_explained(soak):
	""" "In review with a reason" is not a hiding place: every open review item traces back to a bookkeeper
	edit (or to finding F1, asserted separately in test_reliability_findings.py), and QBO's invoice balances
	equal the ledger's outstanding amounts except where such an item explains the difference."""
	w, wl, _s = soak
	_assert_none("unexplained", check_reviews_explained(w, wl.o, known_push_order_bug="F1" in KNOWN_FINDINGS))
	check_duplicates(w, wl.o)
	print(f"\nsymptoms of known engine findings (test_reliability_findings.py): {sorted(wl.o.known)}")


def test_books_tie_with_no_unexplained_difference(soak):
	"""Invariant 9 after the soak (conflict policy "QBO wins"): the AR tie-out of every realm finds each
	difference explained (a bookkeeper edit in review, a payment that no longer fits it...), 0 unexplained,
	and its QBO figures are QBO's own."""
	w, _wl, s = soak
	_assert_none("tie_out", check_tie_out(w))
	results = [w.engine.tie_out(r) for r in w.realms]
	print(f"\n[QBO wins] tie-out differences per realm: {[len(t.differences) for t in results]}, "
		f"unexplained: {[t.unexplained_count for t in results]}")


def test_books_tie_under_the_review_policy_too(tmp_path):
	"""The same under conflict policy "hold for review": a shorter faulty run, drained, then the tie-out."""
	w = World(tmp_path / "review", SEED + 2, conflict_policy=C.REVIEW)
	try:
		wl = Workload(w, SEED + 2)
		wl.setup()
		wl.run(min(STEPS, 600), faults=True)
		w.drain()
		assert any(c.kind == "field_conflict" for r in w.realms for c in w.store.list_conflicts(r))
		_assert_none("tie_out", check_tie_out(w))
		results = [w.engine.tie_out(r) for r in w.realms]
		print(f"\n[review policy] tie-out differences per realm: {[len(t.differences) for t in results]}, "
			f"unexplained: {[t.unexplained_count for t in results]}")
	finally:
		w.close()
