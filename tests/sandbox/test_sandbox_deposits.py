"""Bank deposits: payments leave Undeposited Funds, fees and cash back, what QBO refuses (qbo-api.md §1, §9;
nexora_qbo/sandbox/entities/deposit.py says what is assumed)."""

from __future__ import annotations

from decimal import Decimal

from sandbox_testkit import seeded

D = Decimal


def _invoice(api, amount, customer="1"):
	return api.create("Invoice", {"CustomerRef": {"value": customer}, "Line": [{"Amount": D(amount),
		"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]})


def _payment(api, amount, invoice_id, customer="1", **extra):
	return api.create("Payment", {"CustomerRef": {"value": customer}, "TotalAmt": D(amount), "Line": [
		{"Amount": D(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}], **extra})


def _deposit(api, bank, payments, *fees, cash_back=None):
	lines = [{"Amount": D(str(p["TotalAmt"])), "LinkedTxn": [{"TxnId": p["Id"], "TxnType": "Payment", "TxnLineId": "0"}]}
		for p in payments]
	lines += [{"Amount": D(amount), "DetailType": "DepositLineDetail", "DepositLineDetail": {"AccountRef": {"value": acc}}}
		for acc, amount in fees]
	body = {"DepositToAccountRef": {"value": bank}, "TxnDate": "2026-11-30", "Line": lines}
	if cash_back:
		body["CashBack"] = {"AccountRef": {"value": cash_back[0]}, "Amount": D(cash_back[1])}
	return body


def test_deposit_moves_payments_out_of_undeposited_funds_with_a_fee(server, realm, api):
	bank, uf = seeded(server, realm, "accounts", "Checking"), seeded(server, realm, "accounts", "Undeposited Funds")
	fee_acct = api.create("Account", {"Name": "Bank Service Charges", "AccountType": "Expense"})["Id"]
	p1 = _payment(api, "600.00", _invoice(api, "600.00")["Id"])
	p2 = _payment(api, "400.00", _invoice(api, "400.00")["Id"])
	assert api.read("Account", uf)["CurrentBalance"] == D("1000.00")
	dep = api.create("Deposit", _deposit(api, bank, [p1, p2], (fee_acct, "-12.50")))
	assert dep["TotalAmt"] == D("987.50")
	assert dep["Line"][0]["LinkedTxn"] == [{"TxnId": p1["Id"], "TxnType": "Payment", "TxnLineId": "0"}]
	assert dep["Line"][2]["DetailType"] == "DepositLineDetail"
	again = api.read("Payment", p1["Id"])
	assert again["LinkedTxn"] == [{"TxnId": dep["Id"], "TxnType": "Deposit"}]
	assert int(again["SyncToken"]) == int(p1["SyncToken"]) + 1  # depositing changed the payment
	assert (api.read("Account", uf)["CurrentBalance"], api.read("Account", bank)["CurrentBalance"]) == (
		D("0.00"), D("987.50"))
	assert [d["Id"] for d in api.query("select * from Deposit").get("Deposit", [])] == [dep["Id"]]


def test_deposited_payment_cannot_be_voided_deleted_or_deposited_twice(server, realm, api):
	bank = seeded(server, realm, "accounts", "Checking")
	p = _payment(api, "250.00", _invoice(api, "250.00")["Id"])
	dep = api.create("Deposit", _deposit(api, bank, [p]))
	p = api.read("Payment", p["Id"])
	err = api.fault("POST", "/payment", {"Id": p["Id"], "SyncToken": p["SyncToken"], "sparse": True},
		{"operation": "update", "include": "void"})
	assert err["code"] == "6000" and dep["Id"] in err["Detail"]
	err = api.fault("POST", "/payment", {"Id": p["Id"], "SyncToken": p["SyncToken"]}, {"operation": "delete"})
	assert err["code"] == "6000"
	err = api.fault("POST", "/deposit", _deposit(api, bank, [p]))
	assert "already part of deposit" in err["Detail"]
	# deleting the deposit releases the payment: it can be voided now
	api.ok("POST", "/deposit", {"Id": dep["Id"], "SyncToken": dep["SyncToken"]}, {"operation": "delete"})
	p = api.read("Payment", p["Id"])
	assert p.get("LinkedTxn", []) == []
	voided = api.ok("POST", "/payment", {"Id": p["Id"], "SyncToken": p["SyncToken"], "sparse": True},
		{"operation": "update", "include": "void"})["Payment"]
	assert voided["TotalAmt"] == D("0.00")


def test_only_whole_payments_from_undeposited_funds_into_a_bank(server, realm, api):
	bank, uf = seeded(server, realm, "accounts", "Checking"), seeded(server, realm, "accounts", "Undeposited Funds")
	direct = _payment(api, "100.00", _invoice(api, "100.00")["Id"], DepositToAccountRef={"value": bank})
	assert "not in Undeposited Funds" in api.fault("POST", "/deposit", _deposit(api, bank, [direct]))["Detail"]
	p = _payment(api, "80.00", _invoice(api, "80.00")["Id"])
	part = _deposit(api, bank, [p])
	part["Line"][0]["Amount"] = D("50.00")
	assert "must equal the payment amount" in api.fault("POST", "/deposit", part)["Detail"]
	assert api.fault("POST", "/deposit", _deposit(api, uf, [p]))["element"] == "DepositToAccountRef"
	fee = api.create("Account", {"Name": "Card Fees", "AccountType": "Expense"})["Id"]
	assert "can't be negative" in api.fault("POST", "/deposit", _deposit(api, bank, [p], (fee, "-90.00")))["Detail"]
	no_bank = _deposit(api, bank, [p])
	del no_bank["DepositToAccountRef"]
	assert api.fault("POST", "/deposit", no_bank)["code"] == "2020"


def test_cash_back_and_an_update_that_takes_a_payment_out(server, realm, api):
	bank = seeded(server, realm, "accounts", "Checking")
	petty = api.create("Account", {"Name": "Petty Cash", "AccountType": "Bank"})["Id"]
	p1 = _payment(api, "300.00", _invoice(api, "300.00")["Id"])
	p2 = _payment(api, "200.00", _invoice(api, "200.00")["Id"])
	dep = api.create("Deposit", _deposit(api, bank, [p1, p2], cash_back=(petty, "20.00")))
	assert dep["TotalAmt"] == D("480.00") and dep["CashBack"]["Amount"] == D("20.00")
	changed = api.update("Deposit", {"Id": dep["Id"], "SyncToken": dep["SyncToken"], "sparse": True,
		"Line": _deposit(api, bank, [p1])["Line"]})
	assert changed["TotalAmt"] == D("280.00")
	assert api.read("Payment", p2["Id"]).get("LinkedTxn", []) == []
	assert api.read("Payment", p1["Id"])["LinkedTxn"] == [{"TxnId": dep["Id"], "TxnType": "Deposit"}]
