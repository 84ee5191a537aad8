"""The audit trail is searchable by document: every exchange about one invoice is found from the words an
auditor has (its number, its ERPNext name, QBO's Id, requestid, intuit_tid), over a real push and pull
against the sandbox. The desk's QBO Sync Log list filters on the same keys (qbo_sync_log.search_keys)."""
from __future__ import annotations

from nexora_qbo.sync import constants as C
from nexora_qbo.sync.audit import SEARCH_KEYS_MAX, document_numbers, search_keys
from nexora_qbo.sync.ports import AuditRow

CO = "Nexora Staffing Inc"


def _found(rows, text):
	return [r for r in rows if text in search_keys(r).split(" ")]


def test_every_exchange_about_one_invoice_is_found_by_its_number(harness, realm):
	h = harness
	cust = h.ledger.create_customer(CO, "Searchable Co", email="s@searchable.example")
	item = h.ledger.create_item(CO, "Search Hours", rate="40.00")
	inv = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": 2, "rate": "40.00"}], "2026-11-02")
	other = h.ledger.submit_invoice(CO, cust, [{"item": item, "qty": 1, "rate": "40.00"}], "2026-11-03")
	h.engine.push(realm)
	h.engine.pull(realm)
	rows = h.store.list_audit(realm)
	number = h.ledger.get(CO, C.INVOICE, inv)["doc_number"]
	qbo_id = h.store.get_mapping(realm, C.INVOICE, inv).qbo_id
	by_number = _found(rows, number)
	# the exchange that sent it (a create, or the batch that carried it) and the pull that read it back
	sent = [r for r in by_number if r.direction == C.OUTBOUND and number in (r.request_payload or "")]
	assert sent and all(r.operation in ("create", "batch") for r in sent)
	assert any(r.direction == C.INBOUND and number in (r.response_payload or "") for r in by_number)
	# only exchanges that name it: not the customer's or the item's, not a body about the other invoice only
	other_number = h.ledger.get(CO, C.INVOICE, other)["doc_number"]
	assert all(number in (r.request_payload or "") + (r.response_payload or "") or inv in (r.local_id, r.qbo_id)
		for r in by_number)
	assert not [r for r in by_number if r.qbo_entity in ("Customer", "Item")]
	assert _found(rows, other_number) and other_number != number
	ok = [r for r in sent if r.http_status == 200][-1]
	# the same exchange by QBO's requestid and by intuit_tid (what Intuit support quotes); reads by QBO's Id
	assert _found(rows, ok.request_id) == [ok] and ok in _found(rows, ok.intuit_tid)
	assert all(r.qbo_id == qbo_id for r in _found(rows, qbo_id) if r.qbo_entity == "Invoice")


def test_document_numbers_are_read_from_truncated_or_redacted_bodies():
	body = '{"QueryResponse": {"Invoice": [{"Id": "7", "DocNumber": "1042"}, {"DocNumber": "1043", "Line": [... '
	assert document_numbers(body, '{"Payment": {"PaymentRefNum": "CHK-30"}}', None) == ["1042", "1043", "CHK-30"]
	assert document_numbers('{"Customer": {"DisplayName": "Acme"}}') == []


def test_the_keys_of_a_huge_page_stay_bounded_and_whole():
	page = '{"Invoice": [' + ", ".join(f'{{"DocNumber": "INV-{n:05d}"}}' for n in range(2000)) + "]}"
	row = AuditRow(realm_id="1", direction=C.INBOUND, qbo_entity="Invoice", operation="cdc", response_payload=page,
		request_id="req-1", intuit_tid="tid-1")
	keys = search_keys(row)
	assert len(keys) <= SEARCH_KEYS_MAX and keys.startswith("INV-00000 INV-00001")
	assert all(k.startswith("INV-") and len(k) == 9 for k in keys.split(" "))
