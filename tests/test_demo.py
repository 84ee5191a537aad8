"""`nexora-qbo demo`: a month end to end on a fresh sandbox, told in a bookkeeper's words, ending with the
month-end tie-out of both books (issue 12 "a newcomer's first hour"; issue 9: the demo lives outside sync/)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nexora_qbo
from nexora_qbo import demo
from nexora_qbo.demo import words

PACKAGE = Path(nexora_qbo.__file__).resolve().parent


def test_demo_tells_the_month_in_plain_words_and_ends_with_the_tie_out(tmp_path, capsys):
	assert demo.main(["--dir", str(tmp_path)]) == 0
	out = capsys.readouterr().out
	assert "{'" not in out and "':" not in out  # no engine counters printed as dicts
	for jargon in ("echo", "held", "parked", "AuthenticationError", "ThrottleError", "3200", "requestid"):
		assert not re.search(rf"\b{jargon}\b", out), jargon
	assert out.count("Month-end tie-out") == 2
	tail = out[out.index("Month-end tie-out") :]
	assert "Settled automatically" not in tail  # the tie-out is the last section
	# the review item was worked as its text advises (cancel and amend), so both books tie to the cent
	assert "Needs your review" not in out
	assert re.search(r"Resolved: The invoice SINV-NSI-00001 was changed in QuickBooks .* amendment", out)
	assert "SINV-NSI-00001-1 updated the same QuickBooks invoice" in out
	assert tail.count("Both books agree to the cent on every open document and every customer.") == 2
	assert tail.count("Unexplained: 0") == 2
	assert "access token renewed (it lasts an hour)" in out
	assert "payments brought in from QuickBooks" in out and "credit memo brought in from QuickBooks" in out


def test_tie_out_flags_a_difference_without_a_review_item(tmp_path, capsys):
	"""The tie-out is a check, not decoration: an invoice whose QBO balance moved with no review item is
	called out (here the bookkeeper records a payment that the sync has not pulled yet)."""
	from nexora_qbo.demo import month

	ran = {}
	real = month.tie_out_section

	def before_tie_out(engine, realm_id):
		if not ran:
			ran["realm"] = realm_id
			client = engine.client(realm_id)
			inv = list(client.query_all("Invoice", where="Balance > '0'"))[-1]  # not the one in review
			client.create(
				"Payment",
				{
					"CustomerRef": inv["CustomerRef"],
					"TotalAmt": "10.00",
					"Line": [{"Amount": "10.00", "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
				},
				request_id="tie-out-test-payment",
			)
		return real(engine, realm_id)

	month.tie_out_section = before_tie_out
	try:
		assert demo.main(["--quiet", "--dir", str(tmp_path)]) == 0
	finally:
		month.tie_out_section = real
	out = capsys.readouterr().out
	assert "Unexplained: 1" in out
	assert "(difference 10.00)" in out and "The sync knows no reason for this." in out


def test_words_say_every_engine_outcome_and_hide_none():
	assert words.push({"done": 2, "failed": 1, "parked": 0}) == (
		"2 documents sent to QuickBooks; 1 document not sent yet (retried automatically)"
	)
	assert words.pull({"echo": 11}) == "nothing new from QuickBooks"
	assert words.pull({"something_new": 2}) == "2 something new"  # unknown outcomes are shown, not dropped


def test_the_engine_package_does_not_import_the_demo_or_the_sandbox():
	"""Architecture: sync/ imports qbo/ and never the sandbox; the demo (which starts one) lives outside."""
	for path in (PACKAGE / "sync").rglob("*.py"):
		for node in ast.walk(ast.parse(path.read_text())):
			names = []
			if isinstance(node, ast.Import):
				names = [a.name for a in node.names]
			elif isinstance(node, ast.ImportFrom) and node.module:
				names = [node.module]
			for name in names:
				assert not name.startswith(("nexora_qbo.sandbox", "nexora_qbo.demo")), (path, name)
