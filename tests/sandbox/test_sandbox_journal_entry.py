"""JournalEntry in the sandbox (nexora_qbo/sandbox/entities/journal.py): balanced lines, an A/R line needs its
customer, an A/R debit is a charge of that customer that a Payment may link (with a CreditMemo: a refund of
the customer's credit)."""

from __future__ import annotations

from decimal import Decimal

D = Decimal


def _account(api, name) -> str:
	return api.query(f"select * from Account where Name = '{name}'")["Account"][0]["Id"]


def _je_line(amount, posting, account, customer=None):
	detail = {"PostingType": posting, "AccountRef": {"value": account}}
	if customer:
		detail["Entity"] = {"Type": "Customer", "EntityRef": {"value": customer}}
	return {"DetailType": "JournalEntryLineDetail", "Amount": D(amount), "JournalEntryLineDetail": detail}


def _refund_je(api, amount="60.00", customer="1"):
	ar, bank = _account(api, "Accounts Receivable (A/R)"), _account(api, "Checking")
	return api.create("JournalEntry", {"TxnDate": "2026-11-24", "Line": [
		_je_line(amount, "Debit", ar, customer), _je_line(amount, "Credit", bank)]})


def test_journal_entry_must_balance_and_name_the_customer_on_ar(api):
	ar, bank = _account(api, "Accounts Receivable (A/R)"), _account(api, "Checking")
	err = api.fault("POST", "/journalentry", {"Line": [_je_line("10.00", "Debit", ar, "1"),
		_je_line("9.00", "Credit", bank)]})
	assert "equal debits and credits" in err["Detail"]
	err = api.fault("POST", "/journalentry", {"Line": [_je_line("10.00", "Debit", ar),
		_je_line("10.00", "Credit", bank)]})
	assert "Accounts Receivable, you must choose a customer" in err["Detail"]
	before = api.read("Customer", "1")["Balance"]
	je = _refund_je(api, "10.00")
	assert je["TotalAmt"] == D("10.00") and je["SyncToken"] == "0"
	assert je["Line"][0]["JournalEntryLineDetail"]["Entity"]["EntityRef"]["value"] == "1"
	assert api.read("Customer", "1")["Balance"] == before + D("10.00")
	# a journal entry touching no A/R leaves every customer alone
	api.create("JournalEntry", {"Line": [_je_line("5.00", "Debit", _account(api, "Discounts given")),
		_je_line("5.00", "Credit", bank)]})
	assert api.read("Customer", "1")["Balance"] == before + D("10.00")


def test_zero_payment_links_credit_memo_and_journal_entry(api):
	cm = api.create("CreditMemo", {"CustomerRef": {"value": "1"}, "Line": [{"Amount": D("100.00"),
		"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]})
	assert api.read("Customer", "1")["Balance"] == D("-100.00")
	je = _refund_je(api, "60.00")
	assert api.read("Customer", "1")["Balance"] == D("-40.00")
	# another customer's payment cannot link it
	other = api.create("Customer", {"DisplayName": "Someone Else"})
	err = api.fault("POST", "/payment", {"CustomerRef": {"value": other["Id"]}, "TotalAmt": D("0"), "Line": [
		{"Amount": D("60.00"), "LinkedTxn": [{"TxnId": je["Id"], "TxnType": "JournalEntry"}]}]})
	assert "belongs to another customer" in err["Detail"]
	pay = api.create("Payment", {"CustomerRef": {"value": "1"}, "TotalAmt": D("0"), "Line": [
		{"Amount": D("60.00"), "LinkedTxn": [{"TxnId": je["Id"], "TxnType": "JournalEntry"}]},
		{"Amount": D("60.00"), "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]}]})
	assert pay["UnappliedAmt"] == D("0.00")
	assert api.read("CreditMemo", cm["Id"])["Balance"] == D("40.00")
	assert api.read("Customer", "1")["Balance"] == D("-40.00")  # linking moves nothing more
	# never more than the journal entry's open A/R
	err = api.fault("POST", "/payment", {"CustomerRef": {"value": "1"}, "TotalAmt": D("0"), "Line": [
		{"Amount": D("1.00"), "LinkedTxn": [{"TxnId": je["Id"], "TxnType": "JournalEntry"}]},
		{"Amount": D("1.00"), "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]}]})
	assert "more than its open balance" in err["Detail"]
	err = api.fault("POST", "/journalentry", {"Id": je["Id"], "SyncToken": je["SyncToken"]}, {"operation": "delete"})
	assert "Unlink" in err["Detail"]
	api.call("POST", "/payment", {"Id": pay["Id"], "SyncToken": pay["SyncToken"]}, {"operation": "delete"})
	api.call("POST", "/journalentry", {"Id": je["Id"], "SyncToken": je["SyncToken"]}, {"operation": "delete"})
	assert api.read("Customer", "1")["Balance"] == D("-100.00")
	assert api.read("CreditMemo", cm["Id"])["Balance"] == D("100.00")


def test_journal_entry_is_in_cdc_and_query(api, server):
	server.advance_clock(seconds=3)
	since = server.clock.now().isoformat()
	server.advance_clock(seconds=1)
	je = _refund_je(api, "7.00")
	assert [r["Id"] for r in api.query("select * from JournalEntry")["JournalEntry"]] == [je["Id"]]
	cdc = api.ok("GET", "/cdc", params={"entities": "JournalEntry", "changedSince": since})
	found = cdc["CDCResponse"][0]["QueryResponse"][0]["JournalEntry"]
	assert [r["Id"] for r in found] == [je["Id"]]
