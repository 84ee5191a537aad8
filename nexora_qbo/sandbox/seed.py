"""A staffing company per realm: the data the sync engine and demo expect to find in QBO.

Accounts (Undeposited Funds is Id 4 as in QBO sandboxes, §9 Payment), terms Net 15/30, classes (service
lines),
departments (branch locations), US sales tax (pseudo codes TAX/NON, a TaxCode group Id 2 with one 8.25% rate,
matching `DefaultTaxCodeRef {"value":"2"}` in fx:minimul-qbo_api/create/customer.yml), service items, one
NonInventory and one Inventory item, a few customers (plus foreign-currency ones under multicurrency).
Everything except TaxCode/TaxRate/Preferences/CompanyInfo goes through the same validation as API writes.
"""

from __future__ import annotations

from decimal import Decimal

from . import service
from .entities.base import currency_ref
from .model import Realm
from .util import pacific_date


def preferences(realm: Realm) -> dict:
	"""Shape of fx:Boulevard-ExQuickBooks/read_preferences.json (the parts the engine reads)."""
	o = realm.options
	return {
		"AccountingInfoPrefs": {
			"TrackDepartments": bool(o.track_departments),
			"DepartmentTerminology": "Location",
			"ClassTrackingPerTxn": bool(o.track_classes and not o.class_per_line),
			"ClassTrackingPerTxnLine": bool(o.track_classes and o.class_per_line),
			"CustomerTerminology": "Customers",
		},
		"ProductAndServicesPrefs": {
			"ForSales": True,
			"ForPurchase": True,
			"QuantityWithPriceAndRate": True,
			"QuantityOnHand": True,
		},
		"SalesFormsPrefs": {
			"CustomField": [],
			"CustomTxnNumbers": bool(o.custom_txn_numbers),
			"AllowDeposit": False,
			"AllowDiscount": True,
			"AllowEstimates": True,
			"AllowServiceDate": True,
			"AllowShipping": False,
			"DefaultDiscountAccount": "9",
			"ETransactionEnabledStatus": "NotApplicable",
			"ETransactionAttachPDF": False,
			"ETransactionPaymentEnabled": False,
			"IPNSupportEnabled": False,
			"DefaultTerms": {"value": "2"},
			"UsingPriceLevels": False,
			"DefaultCustomerMessage": "Thank you for your business!",
		},
		"EmailMessagesPrefs": {
			kind: {
				"Subject": f"{kind.removesuffix('Message')} from {o.company_name}",
				"Message": "Please find the attached document.\n\nSincerely,\n" + o.company_name,
			}
			for kind in ("InvoiceMessage", "EstimateMessage", "SalesReceiptMessage", "StatementMessage")
		},
		"VendorAndPurchasesPrefs": {
			"TrackingByCustomer": True,
			"BillableExpenseTracking": True,
			"POCustomField": [],
		},
		"TimeTrackingPrefs": {
			"UseServices": True,
			"BillCustomers": True,
			"ShowBillRateToAll": False,
			"WorkWeekStartDate": "Monday",
			"MarkTimeEntriesBillable": True,
		},
		"TaxPrefs": {
			"UsingSalesTax": True,
			"PartnerTaxEnabled": bool(o.automated_sales_tax),
			"TaxGroupCodeRef": {"value": "2"},
		},
		"CurrencyPrefs": {
			"MultiCurrencyEnabled": bool(o.multicurrency),
			"HomeCurrency": {"value": o.home_currency},
		},
		"ReportPrefs": {"ReportBasis": "Accrual", "CalcAgingReportFromTxnDate": False},
		"OtherPrefs": {
			"NameValue": [
				{"Name": "SalesFormsPrefs.DefaultCustomerMessage", "Value": "Thank you for your business!"},
				{"Name": "SalesFormsPrefs.DefaultItem", "Value": "1"},
				{"Name": "Vendor1099Enabled", "Value": "true"},
				{"Name": "TimeTrackingFeatureEnabled", "Value": "true"},
			]
		},
	}


def company_info(realm: Realm) -> dict:
	o = realm.options
	addr = {
		"Id": "1",
		"Line1": "500 Congress Ave",
		"City": "Austin",
		"CountrySubDivisionCode": "TX",
		"PostalCode": "78701",
		"Country": "US",
	}
	return {
		"CompanyName": o.company_name,
		"LegalName": o.company_name + " LLC",
		"CompanyAddr": dict(addr),
		"CustomerCommunicationAddr": dict(addr),
		"LegalAddr": dict(addr),
		"PrimaryPhone": {"FreeFormNumber": "(512) 555-0100"},
		"CompanyStartDate": "2024-01-01",
		"FiscalYearStartMonth": "January",
		"Country": "US",
		"Email": {"Address": "books@nexora-staffing.example"},
		"WebAddr": {},
		"SupportedLanguages": "en",
		"NameValue": [
			{"Name": "NeoEnabled", "Value": "true"},
			{"Name": "IndustryType", "Value": "Staffing"},
			{"Name": "OfferingSku", "Value": "QuickBooks Online Plus"},
		],
	}


ACCOUNTS = [
	("Services", "Income", "ServiceFeeIncome"),
	("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
	("Checking", "Bank", "Checking"),
	("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
	("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
	("Inventory Asset", "Other Current Asset", "Inventory"),
	("Sales of Product Income", "Income", "SalesOfProductIncome"),
	("Reimbursable Expenses Income", "Income", "OtherPrimaryIncome"),
	("Discounts given", "Income", "DiscountsRefundsGiven"),
]


def seed_staffing_company(realm: Realm, now) -> dict:
	ctx = service.WriteContext(realm, now)  # events are dropped: seeding is not a change a webhook reports
	service.insert(realm, "Preferences", preferences(realm), now, record_id="1")
	service.insert(realm, "CompanyInfo", company_info(realm), now, record_id="1")
	acct = {}
	for name, acct_type, sub in ACCOUNTS:
		acct[name] = service.create(
			realm, "Account", {"Name": name, "AccountType": acct_type, "AccountSubType": sub}, ctx
		)["Id"]
	service.insert(
		realm,
		"TaxRate",
		{
			"Name": "Texas Sales Tax",
			"Description": "Sales Tax",
			"Active": True,
			"RateValue": Decimal("8.25"),
			"AgencyRef": {"value": "1"},
			"SpecialTaxType": "NONE",
			"DisplayType": "ReadOnly",
		},
		now,
		record_id="1",
	)
	for code, taxable in (("TAX", True), ("NON", False)):
		service.insert(
			realm,
			"TaxCode",
			{
				"Name": code,
				"Description": "Taxable" if taxable else "Non-taxable",
				"Active": True,
				"Taxable": taxable,
				"TaxGroup": False,
			},
			now,
			record_id=code,
		)
	service.insert(
		realm,
		"TaxCode",
		{
			"Name": "Texas",
			"Description": "Texas",
			"Active": True,
			"Taxable": True,
			"TaxGroup": True,
			"SalesTaxRateList": {
				"TaxRateDetail": [
					{
						"TaxRateRef": {"value": "1", "name": "Texas Sales Tax"},
						"TaxTypeApplicable": "TaxOnAmount",
						"TaxOrder": 0,
					}
				]
			},
			"PurchaseTaxRateList": {"TaxRateDetail": []},
		},
		now,
		record_id="2",
	)
	realm.counters["TaxCode"] = 2
	terms = {}
	for name, days in (("Net 15", 15), ("Net 30", 30), ("Due on receipt", 0)):
		terms[name] = service.create(realm, "Term", {"Name": name, "DueDays": days}, ctx)["Id"]
	for name in ("Cash", "Check", "ACH"):
		service.create(realm, "PaymentMethod", {"Name": name}, ctx)
	classes = [
		service.create(realm, "Class", {"Name": n}, ctx)["Id"]
		for n in ("Light Industrial", "Clerical", "Healthcare")
	]
	departments = [service.create(realm, "Department", {"Name": n}, ctx)["Id"] for n in ("Austin", "Dallas")]
	items = {}
	for name, price, desc in (
		("Staffing Hours", "45.00", "Regular hours worked"),
		("Overtime Hours", "67.50", "Overtime hours (1.5x)"),
		("Per Diem", "75.00", "Daily per diem"),
		("Billable Expenses", "0", "Reimbursable expenses"),
	):
		items[name] = service.create(
			realm,
			"Item",
			{
				"Name": name,
				"Type": "Service",
				"Description": desc,
				"UnitPrice": Decimal(price),
				"IncomeAccountRef": {"value": acct["Services"]},
			},
			ctx,
		)["Id"]
	items["Safety Vest"] = service.create(
		realm,
		"Item",
		{
			"Name": "Safety Vest",
			"Type": "NonInventory",
			"UnitPrice": Decimal("12.00"),
			"Taxable": True,
			"IncomeAccountRef": {"value": acct["Sales of Product Income"]},
		},
		ctx,
	)["Id"]
	items["Hard Hat"] = service.create(
		realm,
		"Item",
		{
			"Name": "Hard Hat",
			"Type": "Inventory",
			"Description": "ANSI Type I hard hat",
			"PurchaseDesc": "Hard hats (case of 1)",
			"UnitPrice": Decimal("25.00"),
			"PurchaseCost": Decimal("11.00"),
			"Taxable": True,
			"IncomeAccountRef": {"value": acct["Sales of Product Income"]},
			"ExpenseAccountRef": {"value": acct["Cost of Goods Sold"]},
			"AssetAccountRef": {"value": acct["Inventory Asset"]},
			"TrackQtyOnHand": True,
			"QtyOnHand": 40,
			"InvStartDate": pacific_date(now).replace(month=1, day=1).isoformat(),
		},
		ctx,
	)["Id"]
	customers = {}
	for n, (name, email, street, city, zip_code, lat, lon) in enumerate(
		(
			(
				"Acme Logistics",
				"ap@acme-logistics.example",
				"1200 Freight Way",
				"Austin",
				"78744",
				"30.19",
				"-97.74",
			),
			(
				"Bluebonnet Health",
				"billing@bluebonnet.example",
				"88 Medical Pkwy",
				"Dallas",
				"75390",
				"32.81",
				"-96.84",
			),
			(
				"Lone Star Manufacturing",
				"payables@lonestar.example",
				"4 Foundry Rd",
				"Austin",
				"78741",
				"30.23",
				"-97.71",
			),
		),
		start=1,
	):
		addr = {
			"Id": str(n),
			"Line1": street,
			"City": city,
			"CountrySubDivisionCode": "TX",
			"PostalCode": zip_code,
			"Lat": lat,
			"Long": lon,
		}
		customers[name] = service.create(
			realm,
			"Customer",
			{
				"DisplayName": name,
				"CompanyName": name,
				"PrimaryEmailAddr": {"Address": email},
				"SalesTermRef": {"value": terms["Net 30"]},
				"BillAddr": dict(addr),
				"ShipAddr": dict(addr),
			},
			ctx,
		)["Id"]
	if realm.multicurrency:
		foreign = [c for c in ("EUR", "CAD") if c != realm.home_currency]
		for code in foreign:
			service.create(realm, "CompanyCurrency", {"Code": code}, ctx)
		for name, code in (("Rhein Personal GmbH", "EUR"), ("Maple Staffing Inc", "CAD")):
			if code in foreign:
				customers[name] = service.create(
					realm,
					"Customer",
					{"DisplayName": name, "CompanyName": name, "CurrencyRef": currency_ref(code)},
					ctx,
				)["Id"]
	return {
		"accounts": acct,
		"terms": terms,
		"classes": classes,
		"departments": departments,
		"items": items,
		"customers": customers,
		"tax_code": "2",
		"tax_rate": "1",
	}
