"""RefundReceipt in the sandbox (nexora_qbo/sandbox/entities/refund.py): computed like a sales receipt, paid from
an account, no A/R of its own; a credit memo's balance is consumed by a Payment linking the credit memo and the
refund (Intuit's documented workflow), or by the refund's own LinkedTxn where the realm keeps one (unknown in QBO,
so both are modelled)."""

from __future__ import annotations

from decimal import Decimal

from sandbox_testkit import Api, seeded

D = Decimal


def _line(amount, item="1"):
	return {"Amount": D(amount), "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item}}}


def _bank(api) -> str:
	return api.query("select * from Account where Name = 'Checking'")["Account"][0]["Id"]


def _credit(api, amount="100.00") -> dict:
	return api.create("CreditMemo", {"CustomerRef": {"value": "1"}, "Line": [_line(amount)]})


def test_refund_receipt_totals_like_a_sales_receipt_and_needs_an_account(api):
	err = api.fault("POST", "/refundreceipt", {"CustomerRef": {"value": "1"}, "Line": [_line("10.00")]})
	assert err["code"] == "2020" and "DepositToAccountRef" in err["Detail"]
	rr = api.create("RefundReceipt", {"CustomerRef": {"value": "1"}, "DepositToAccountRef": {"value": _bank(api)},
		"PaymentRefNum": "CHK 881", "Line": [_line("40.00"), _line("2.50", "2")]})
	assert rr["TotalAmt"] == D("42.50") and rr["Balance"] == D("0.00") and rr["PaymentRefNum"] == "CHK 881"
	assert rr["DocNumber"] and rr["SyncToken"] == "0"
	# no A/R of its own: the customer's balance does not move
	before = api.read("Customer", "1")["Balance"]
	api.create("RefundReceipt", {"CustomerRef": {"value": "1"}, "DepositToAccountRef": {"value": _bank(api)},
		"Line": [_line("5.00")]})
	assert api.read("Customer", "1")["Balance"] == before


def test_payment_linking_credit_memo_and_refund_consumes_the_credit(api):
	cm = _credit(api)
	assert api.read("Customer", "1")["Balance"] == D("-100.00")
	rr = api.create("RefundReceipt", {"CustomerRef": {"value": "1"}, "DepositToAccountRef": {"value": _bank(api)},
		"Line": [_line("60.00")], "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]})
	# default realm: the refund's own link to the credit memo is not kept
	assert rr["LinkedTxn"] == [] and api.read("CreditMemo", cm["Id"])["Balance"] == D("100.00")
	pay = api.create("Payment", {"CustomerRef": {"value": "1"}, "TotalAmt": D("0"), "Line": [
		{"Amount": D("60.00"), "LinkedTxn": [{"TxnId": rr["Id"], "TxnType": "RefundReceipt"}]},
		{"Amount": D("60.00"), "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]}]})
	assert pay["UnappliedAmt"] == D("0.00")
	assert api.read("CreditMemo", cm["Id"])["Balance"] == D("40.00")
	assert api.read("Customer", "1")["Balance"] == D("-40.00")
	after = api.read("RefundReceipt", rr["Id"])
	assert after["LinkedTxn"] == [{"TxnId": pay["Id"], "TxnType": "Payment"}] and after["SyncToken"] == "1"
	# never more than the refund: 60 of it is linked already
	err = api.fault("POST", "/payment", {"CustomerRef": {"value": "1"}, "TotalAmt": D("0"), "Line": [
		{"Amount": D("1.00"), "LinkedTxn": [{"TxnId": rr["Id"], "TxnType": "RefundReceipt"}]},
		{"Amount": D("1.00"), "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]}]})
	assert "more than its open balance" in err["Detail"]
	# the refund cannot be deleted while a payment links it
	err = api.fault("POST", "/refundreceipt", {"Id": rr["Id"], "SyncToken": after["SyncToken"]}, {"operation": "delete"})
	assert "Unlink" in err["Detail"]


def test_direct_link_where_the_realm_keeps_it(server):
	realm = server.create_realm(per_second=10_000, per_minute=100_000, batch_per_minute=10_000,
		refund_links_credit_memo=True)
	api = Api(server, realm)
	cm = _credit(api)
	err = api.fault("POST", "/refundreceipt", {"CustomerRef": {"value": "1"}, "DepositToAccountRef": {"value": _bank(api)},
		"Line": [_line("150.00")], "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]})
	assert "more than the open credit" in err["Detail"]
	rr = api.create("RefundReceipt", {"CustomerRef": {"value": "1"}, "DepositToAccountRef": {"value": _bank(api)},
		"Line": [_line("100.00")], "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]})
	assert rr["LinkedTxn"] == [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]
	memo = api.read("CreditMemo", cm["Id"])
	assert memo["Balance"] == D("0.00") and memo["SyncToken"] == "1"
	assert {"TxnId": rr["Id"], "TxnType": "RefundReceipt"} in memo["LinkedTxn"]
	assert api.read("Customer", "1")["Balance"] == D("0.00")
	# deleting the refund gives the credit back
	api.call("POST", "/refundreceipt", {"Id": rr["Id"], "SyncToken": "0"}, {"operation": "delete"})
	assert api.read("CreditMemo", cm["Id"])["Balance"] == D("100.00")


def test_refund_receipt_is_in_cdc_and_query(api, server):
	server.advance_clock(seconds=3)
	since = server.clock.now().isoformat()
	server.advance_clock(seconds=1)
	rr = api.create("RefundReceipt", {"CustomerRef": {"value": "1"}, "DepositToAccountRef": {"value": _bank(api)},
		"Line": [_line("7.00")]})
	assert [r["Id"] for r in api.query("select * from RefundReceipt")["RefundReceipt"]] == [rr["Id"]]
	cdc = api.ok("GET", "/cdc", params={"entities": "RefundReceipt", "changedSince": since})
	found = cdc["CDCResponse"][0]["QueryResponse"][0]["RefundReceipt"]
	assert [r["Id"] for r in found] == [rr["Id"]]
