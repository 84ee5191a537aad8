"""Issue 7 §5: the pull's high-water mark is QBO's time, never the local clock (invariant 8).

The host running the engine is 60 s ahead of QBO (the sandbox clock is QBO's). A change QBO stamps inside
those 60 s, after the pull or the initial import read it, must still be pulled by the next run.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sync_testkit import Harness

from nexora_qbo.sync import constants as C

AHEAD = timedelta(seconds=60)


class HostClockAhead:
	"""The engine's Clock port on a host whose clock runs 60 s ahead of QBO's."""

	def __init__(self, sandbox):
		self.sandbox = sandbox

	def now(self):
		return self.sandbox.clock.now() + AHEAD


@pytest.fixture
def ahead(sandbox, tmp_path):
	h = Harness(sandbox, tmp_path)
	h.clock = HostClockAhead(sandbox)
	h.engine.clock = h.clock
	h.ledger._clock = h.clock
	yield h
	h.close()


def _created_in_the_window(h, realm, sandbox, name):
	sandbox.advance_clock(seconds=2)  # QBO's clock: still well before the host's "now"
	return h.bk(realm).create("Customer", {"DisplayName": name})


def test_a_change_right_after_the_initial_import_is_pulled(ahead, sandbox):
	h = ahead
	realm = h.new_realm()
	h.engine.initial_import(realm)
	cursor = h.store.get_cursor(realm).changed_since
	assert cursor <= sandbox.clock.now()  # QBO's time, not the host's
	late = _created_in_the_window(h, realm, sandbox, "Window Co After Import")
	h.engine.pull(realm)
	assert h.store.get_mapping_by_qbo(realm, "Customer", late["Id"]) is not None


def test_a_change_right_after_a_query_fallback_pull_is_pulled(ahead, sandbox):
	h = ahead
	realm = h.new_realm()
	h.engine.initial_import(realm)
	sandbox.advance_clock(days=31)  # past QBO's 30-day CDC window: the pull falls back to queries
	h.renew_bookkeeper(realm)
	counts = h.engine.pull(realm)
	assert counts.get("fallback") == 1
	assert h.store.get_cursor(realm).changed_since <= sandbox.clock.now()
	late = _created_in_the_window(h, realm, sandbox, "Window Co After Fallback")
	counts = h.engine.pull(realm)
	assert not counts.get("fallback")
	assert h.store.get_mapping_by_qbo(realm, "Customer", late["Id"]) is not None
	assert late["DisplayName"] in h.ledger.list_all("Nexora Staffing Inc", C.CUSTOMER)


def test_a_change_right_after_a_cdc_pull_is_pulled(ahead, sandbox):
	h = ahead
	realm = h.new_realm()
	h.engine.initial_import(realm)
	h.engine.pull(realm)
	late = _created_in_the_window(h, realm, sandbox, "Window Co After CDC")
	h.engine.pull(realm)
	assert h.store.get_mapping_by_qbo(realm, "Customer", late["Id"]) is not None


def test_a_change_right_after_the_go_live_is_pulled(ahead, sandbox):
	"""The go-live's reads start the cursor too: at QBO's time of its first read, never the host's clock."""
	h = ahead
	realm = h.new_realm()
	h.engine.apply_go_live(realm, h.engine.go_live_preview(realm))
	assert h.store.get_cursor(realm).changed_since <= sandbox.clock.now()
	late = _created_in_the_window(h, realm, sandbox, "Window Co After Go-Live")
	h.engine.pull(realm)
	assert h.store.get_mapping_by_qbo(realm, "Customer", late["Id"]) is not None
