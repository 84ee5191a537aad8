"""RefundReceipt in the sandbox (nexora_qbo/sandbox/entities/refund.py): a sale in reverse paid at once from an
account; no A/R of its own, so it never consumes a credit memo and a Payment cannot link it."""

from __future__ import annotations

from decimal import Decimal

D = Decimal


def _line(amount, item="1"):
	return {"Amount": D(amount), "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item}}}


def _bank(api) -> str:
	return api.query("select * from Account where Name = 'Checking'")["Account"][0]["Id"]


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


def test_refund_receipt_never_consumes_a_credit_memo(api):
	cm = api.create("CreditMemo", {"CustomerRef": {"value": "1"}, "Line": [_line("100.00")]})
	rr = api.create("RefundReceipt", {"CustomerRef": {"value": "1"}, "DepositToAccountRef": {"value": _bank(api)},
		"Line": [_line("60.00")], "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]})
	assert rr["LinkedTxn"] == []  # assumed: not kept
	assert api.read("CreditMemo", cm["Id"])["Balance"] == D("100.00")
	err = api.fault("POST", "/payment", {"CustomerRef": {"value": "1"}, "TotalAmt": D("0"), "Line": [
		{"Amount": D("60.00"), "LinkedTxn": [{"TxnId": rr["Id"], "TxnType": "RefundReceipt"}]},
		{"Amount": D("60.00"), "LinkedTxn": [{"TxnId": cm["Id"], "TxnType": "CreditMemo"}]}]})
	assert "can't be linked to a RefundReceipt" in err["Detail"]
	api.call("POST", "/refundreceipt", {"Id": rr["Id"], "SyncToken": "0"}, {"operation": "delete"})
	assert api.query("select * from RefundReceipt").get("RefundReceipt") in (None, [])


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
