"""Engine findings of the reliability suite, each reduced to a minimal, deterministic reproduction.

F1 — push order: creates are sent before cancels, so a cancelled-and-re-entered payment is rejected.
	A user records a payment, it syncs; she cancels it (wrong amount, wrong invoice…) and records the
	right one before the next push. ERPNext allows this: after the cancel the invoice is open again. The
	engine's push sorts every create/update before every cancel (push._sort_key), so QBO receives the new
	payment while the old one still holds the invoice's balance, answers 6000 "The amount applied to Invoice
	… is more than its open balance", and the new payment is parked as "rejected" with "Correct it, then
	retry" — although nothing is wrong with it and a retry after the void would succeed. The same happens
	when a cancelled credit note's application still holds the balance. Found by the soak run (seed
	20261124: COBALT PAY-CCC-00010; seed 8: ALPHA PAY-ASI-00097 and BRAVO PAY-BLL-00003 after a credit note
	cancel). Possible fixes: send cancels of payments/credit notes that free an invoice before creates
	that allocate to it, or treat this 6000 as a dependency on a queued cancel (retry after it) instead of a
	permanent rejection.

F2 — our own write imported back: a payment booked twice in the ledger.
	The engine creates a Payment in QBO (deterministic requestid), QBO commits it, but the engine never
	records the mapping: the response was lost on every attempt the client made (3 in a row here; the
	sandbox's seeded `lost_response` fault), or the worker died after QBO answered (the crash test's
	"pause" kill). The outbox entry is failed/in_flight, which is correct. But the next run is
	SyncEngine.sync = pull THEN push: the CDC pull sees the unmapped Payment, finds no local match (payments
	have no stable key: Ledger.find_match/records.match_keys return nothing for them) and imports it as a NEW
	local Payment Entry. The push then replays the create (same requestid → same QBO Payment), cannot map it
	("Payment 1 is already mapped to payment PAY-…-00002") and parks the original as "The sync could not
	process this payment". Result: the money is booked twice in ERPNext (the invoice's outstanding goes
	negative), and a confusing review item. QBO itself has no duplicate. The same path applies to the
	engine's zero-amount credit-application Payments. Found by the crash test (seed 20261124, run 3,
	"pause" kill at exchange 16). Possible fixes: before importing an unmapped QBO record, check the
	realm's open/in-flight outbox creates of that type (e.g. by requestid, or by PaymentRefNum + customer +
	amount), or push in-flight/failed creates before pulling, or give payments a stable key.

F3 — a credit note linked after a lost create response is held for review for a difference QBO cannot hold.
	When the engine links a local credit note to the QBO CreditMemo it finds by DocNumber + customer (the
	recovery path after a crash or lost responses, above), link_differences compares `against_invoice`,
	which is local-only information (a QBO CreditMemo has no invoice reference), so EVERY such credit note is
	reported as "QuickBooks has CreditMemo … with different content" (transaction_edited), though all
	content is equal, and its outbox entry is parked behind that review item. Found by the crash test (seed
	20261124, run 9, "pause" kill at exchange 19). Fix: leave fields QBO does not carry out of the
	comparison (or compare against_invoice through the credit application instead).

F1b — the F1 fix orders cancels first, but does not make the re-entered payment wait when that cancel
	fails transiently: the create is still sent in the same push, refused, and parked for good (see the test).
	Possible fix: a create that allocates to an invoice waits (DependencyPending) while a cancel freeing that
	invoice is failed/pending, or the 6000 "more than its open balance" is treated as retryable while such a
	cancel is queued.

F5 — a credit note recovered after lost create responses is linked but never applied to its invoice:
	QBO's invoice balance stays higher than ERPNext's outstanding, silently (see the test). Possible fix: run
	the credit-application step on the link/recovery path too (and on retries of a failed application).

The engine fixed F1-F3 in commit f092c23 (cancels that free a balance go before new payments; creates with
lost answers are settled by requestid replay before a pull may import records of that type; against_invoice
left out of the link comparison) and F1b and F5 in a8163d7 (payments wait behind a failed cancel; a credit
memo recovered by lookup is still applied). Each test here failed on the engine before its fix and now keeps
it fixed.
"""

from __future__ import annotations

import pytest
from reliability_kit import NO_FAULTS, World

from nexora_qbo.sync import constants as C


@pytest.fixture
def one_realm(tmp_path):
	w = World(tmp_path, 3, n_realms=1, faults=NO_FAULTS)
	yield w
	w.close()


def _setup(w: World):
	rid = w.realms[0]
	co, led = w.company[rid], w.ledger
	cust = led.create_customer(co, "ALPHA Repro Co", email="ap@alpha-repro.example")
	item = led.create_item(co, "ALPHA Repro Hours", rate="50.00")
	inv = led.submit_invoice(co, cust, [{"item": item, "qty": "2", "rate": "50.00"}], w.today())
	return rid, co, led, cust, inv


def test_f1_cancelled_and_reentered_payment_reaches_qbo(one_realm):
	w = one_realm
	rid, co, led, cust, inv = _setup(w)
	first = led.record_payment(
		co,
		cust,
		"100.00",
		[{"doc_type": C.INVOICE, "doc_key": inv, "amount": "100.00"}],
		w.today(),
		reference="R-ASI-1",
	)
	w.engine.push(rid)
	led.cancel(co, C.PAYMENT, first)  # wrong payment: cancelled…
	second = led.record_payment(
		co,
		cust,
		"100.00",
		[{"doc_type": C.INVOICE, "doc_key": inv, "amount": "100.00"}],
		w.today(),
		reference="R-ASI-2",
	)  # …and entered again, before the next push
	w.engine.push(rid)
	states = {
		(e.local_id, e.action): (e.state, e.last_error)
		for e in w.store.list_outbox(rid, local_type=C.PAYMENT)
	}
	assert states[(second, "create")][0] == C.DONE, states
	assert w.store.get_mapping(rid, C.PAYMENT, second) is not None


def test_f1_payment_after_a_cancelled_credit_note_reaches_qbo(one_realm):
	w = one_realm
	rid, co, led, cust, inv = _setup(w)
	note = led.submit_credit_note(
		co,
		cust,
		[{"item": "ALPHA Repro Hours", "qty": "1", "rate": "10.00", "description": "goodwill"}],
		w.today(),
		against_invoice=inv,
	)
	w.engine.push(rid)
	led.cancel(co, C.CREDIT_MEMO, note)  # the credit was a mistake: the invoice is fully open again…
	pay = led.record_payment(
		co,
		cust,
		"100.00",
		[{"doc_type": C.INVOICE, "doc_key": inv, "amount": "100.00"}],
		w.today(),
		reference="R-ASI-3",
	)  # …and the customer pays it in full
	w.engine.push(rid)
	states = {(e.local_id, e.action): (e.state, e.last_error) for e in w.store.list_outbox(rid)}
	assert states[(pay, "create")][0] == C.DONE, states


def test_f2_a_payment_whose_response_was_lost_is_not_imported_back(one_realm):
	w = one_realm
	rid, co, led, cust, inv = _setup(w)
	w.engine.push(rid)
	pay = led.record_payment(
		co,
		cust,
		"60.00",
		[{"doc_type": C.INVOICE, "doc_key": inv, "amount": "60.00"}],
		w.today(),
		reference="R-ASI-4",
	)
	w.sb.set_faults(rid, script=["lost_response"] * 3)  # committed by QBO, every answer lost (3 attempts)
	w.engine.push(rid)
	assert [e.state for e in w.store.list_outbox(rid, local_type=C.PAYMENT)] == [C.FAILED]  # correct so far
	w.advance(3700)  # past the retry backoff
	w.engine.sync(rid)  # pull, then push
	payments = led.list_all(co, C.PAYMENT)
	assert payments == [pay], [(p, led.origin(co, C.PAYMENT, p)) for p in payments]
	assert led.outstanding(co, C.INVOICE, inv) == 40
	assert w.store.get_mapping(rid, C.PAYMENT, pay) is not None
	assert len(w.qbo_records(rid, "Payment")) == 1


def test_f3_credit_note_linked_after_lost_response_is_not_held_for_review(one_realm):
	w = one_realm
	rid, co, led, cust, inv = _setup(w)
	w.engine.push(rid)
	note = led.submit_credit_note(
		co, cust, [{"item": "ALPHA Repro Hours", "qty": "1", "rate": "10.00"}], w.today(), against_invoice=inv
	)
	w.sb.set_faults(
		rid, script=["none"] + ["lost_response"] * 3
	)  # the lookup answers; the create commits, unanswered
	w.engine.push(rid)
	w.advance(3700)
	w.engine.sync(rid)  # pull links the CreditMemo by DocNumber + customer, then push resumes
	conflicts = [
		(c.kind, [d["field"] for d in c.diffs if d.get("local") != d.get("qbo")])
		for c in w.store.list_conflicts(rid, status="open")
	]
	assert conflicts == [], conflicts
	assert [e.state for e in w.store.list_outbox(rid, local_type=C.CREDIT_MEMO, local_id=note)] == [C.DONE]


def test_f1b_reentered_payment_waits_for_a_cancel_that_failed_transiently(one_realm):
	"""F1b: the F1 fix orders the cancel first, but when that void fails transiently (QBO answered 503
	three times) the re-entered payment is still sent in the same push, refused for the balance the old
	payment holds, and parked as "rejected" for good, although the void goes through on the next run.
	Found by a harsh-fault soak (faults ×2-5 the suite's rates, seed 12, BRAVO PAY-BLL-00006)."""
	w = one_realm
	rid, co, led, cust, inv = _setup(w)
	first = led.record_payment(
		co,
		cust,
		"100.00",
		[{"doc_type": C.INVOICE, "doc_key": inv, "amount": "100.00"}],
		w.today(),
		reference="R-ASI-5",
	)
	w.engine.push(rid)
	led.cancel(co, C.PAYMENT, first)
	second = led.record_payment(
		co,
		cust,
		"100.00",
		[{"doc_type": C.INVOICE, "doc_key": inv, "amount": "100.00"}],
		w.today(),
		reference="R-ASI-6",
	)
	w.sb.set_faults(rid, script=["error503"] * 3)  # the void's three attempts fail; nothing is committed
	w.engine.push(rid)
	w.advance(3700)  # past the backoff: QBO is healthy again
	w.engine.push(rid)
	states = {
		(e.local_id, e.action): (e.state, e.last_error)
		for e in w.store.list_outbox(rid, local_type=C.PAYMENT)
	}
	assert states[(first, "cancel")][0] == C.DONE, states
	assert states[(second, "create")][0] == C.DONE, states


def test_f5_credit_note_recovered_after_lost_responses_is_applied_to_its_invoice(one_realm):
	"""F5: a credit note whose create QBO committed but never acknowledged (responses lost) is later
	found by DocNumber and linked ("QuickBooks already has this content; nothing sent"), but the engine's
	credit application (the zero-amount Payment that applies it to its invoice, made after a normal create)
	is never made: QBO's invoice keeps its full balance, the credit floats unapplied on the customer, the
	outbox says done and nothing is in review. Found by a harsh-fault soak (seed 18, ALPHA SRET-ASI-00019)
	through the balance check in check_reviews_explained."""
	w = one_realm
	rid, co, led, cust, inv = _setup(w)
	w.engine.push(rid)
	led.submit_credit_note(
		co, cust, [{"item": "ALPHA Repro Hours", "qty": "1", "rate": "10.00"}], w.today(), against_invoice=inv
	)
	w.sb.set_faults(
		rid, script=["none"] + ["lost_response"] * 3
	)  # lookup answers; the create commits, unanswered
	w.engine.push(rid)
	w.advance(3700)
	w.engine.sync(rid)
	invoice = w.qbo_records(rid, "Invoice")[0].data
	assert invoice["Balance"] == led.outstanding(co, C.INVOICE, inv) == 90, (
		invoice["Balance"],
		[(e.action, e.state, e.last_error) for e in w.store.list_outbox(rid, local_type=C.CREDIT_MEMO)],
	)
