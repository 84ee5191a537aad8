"""Name-list entities (qbo-api.md §9): Customer/Vendor/Employee, Item, Account, Class, Department, Term,
TaxCode, TaxRate, PaymentMethod, CompanyCurrency. They are deactivated, never deleted (§1)."""

from __future__ import annotations

from decimal import Decimal

from .. import constants as C
from .. import faults as F
from ..model import Realm
from ..util import money, to_decimal
from .base import (
	EntitySpec,
	apply_active_suffix,
	check_name_chars,
	check_unique,
	currency_ref,
	fully_qualified,
)


class NameListSpec(EntitySpec):
	name_list = True
	name_field = "Name"
	unique_across: tuple[str, ...] = ()
	what = "object"

	def defaults(self, realm: Realm) -> dict:
		return {"Active": True}

	def prepare(self, realm, data, body, old, now):
		field = self.name_field
		value = data.get(field)
		if not isinstance(value, str) or not value.strip():
			raise F.required(field)
		data[field] = value.strip()
		if data.get("Active", True) is not False:
			check_name_chars(data[field].removesuffix(C.DELETED_SUFFIX), field)
		self.apply_defaults(realm, data)
		self.complete(realm, data, body, old)
		apply_active_suffix(data, old, (field,))
		data["FullyQualifiedName"] = (
			fully_qualified(realm, self.name, data, field) if "ParentRef" in data else data[field]
		)
		if data.get("Active", True) is not False:
			check_unique(
				realm,
				self.unique_across or (self.name,),
				field,
				data[field],
				old.id if old else None,
				self.name,
				self.what,
			)
		return {}

	def complete(self, realm, data, body, old) -> None:
		pass


class PartySpec(NameListSpec):
	"""Customer / Vendor / Employee: DisplayName unique across all three (§9)."""

	name_field = "DisplayName"
	unique_across = C.DISPLAY_NAME_ENTITIES
	keep_on_full_update = ("CurrencyRef", "Balance", "BalanceWithJobs")

	def prepare(self, realm, data, body, old, now):
		if not data.get("DisplayName"):
			parts = [data.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
			derived = " ".join(p for p in parts if p) or data.get("CompanyName")
			if not derived:
				raise F.required("DisplayName")
			data["DisplayName"] = derived
		super().prepare(realm, data, body, old, now)
		data.setdefault("PrintOnCheckName", data["DisplayName"].removesuffix(C.DELETED_SUFFIX))
		apply_active_suffix(data, old, ("PrintOnCheckName",))
		return {}


class CustomerSpec(PartySpec):
	name = "Customer"
	what = "customer"

	def defaults(self, realm):
		d = {
			"Taxable": True,
			"Job": False,
			"BillWithParent": False,
			"Balance": Decimal("0"),
			"BalanceWithJobs": Decimal("0"),
			"CurrencyRef": currency_ref(realm.home_currency),
			"PreferredDeliveryMethod": "Print",
			"Active": True,
		}
		tax_code = realm.pref("TaxPrefs", "TaxGroupCodeRef", "value")
		if tax_code and realm.get("TaxCode", tax_code):
			d["DefaultTaxCodeRef"] = {"value": tax_code}
		return d

	def complete(self, realm, data, body, old):
		if old is not None:
			old_cur = old.data.get("CurrencyRef", {}).get("value")
			new_cur = data.get("CurrencyRef", {}).get("value")
			if old_cur and new_cur and old_cur != new_cur:
				raise F.business(
					"You can't change the currency of a customer after it was created.", "CurrencyRef"
				)
		from .. import ast

		ast.check_customer(realm, data)
		if data.get("Taxable") is not False:
			data.pop("TaxExemptionReasonId", None)
		if isinstance(data.get("ParentRef"), dict) and data["ParentRef"].get("value"):
			data["Job"] = True
			parent = realm.get("Customer", data["ParentRef"]["value"])
			data["Level"] = (parent.data.get("Level", 0) + 1) if parent else 1
		else:
			data.pop("Level", None)

	def render(self, realm, record):
		"""Balance is derived from open sales transactions (read-only in QBO)."""
		out = dict(record.data)
		total = Decimal("0")
		for inv in realm.live("Invoice"):
			if inv.data.get("CustomerRef", {}).get("value") == record.id:
				total += to_decimal(inv.data.get("Balance"), Decimal("0"))
		for cm in realm.live("CreditMemo"):
			if cm.data.get("CustomerRef", {}).get("value") == record.id:
				total -= to_decimal(cm.data.get("Balance"), Decimal("0"))
		for pay in realm.live("Payment"):
			if pay.data.get("CustomerRef", {}).get("value") == record.id:
				total -= to_decimal(pay.data.get("UnappliedAmt"), Decimal("0"))
		from .journal import customer_balance

		total += customer_balance(realm, record.id)  # A/R lines of journal entries (journal.py)
		out["Balance"] = money(total)
		out["BalanceWithJobs"] = money(total)
		return out


class VendorSpec(PartySpec):
	name = "Vendor"
	what = "vendor"

	def defaults(self, realm):
		return {
			"Balance": Decimal("0"),
			"Vendor1099": False,
			"CurrencyRef": currency_ref(realm.home_currency),
			"Active": True,
		}


class EmployeeSpec(PartySpec):
	name = "Employee"
	what = "employee"


ITEM_TYPES = ("Service", "NonInventory", "Inventory")


class ItemSpec(NameListSpec):
	"""Required fields per Type (§9 Item; fx:Boulevard-ExQuickBooks/create_item*.json)."""

	name = "Item"
	what = "product or service"

	def defaults(self, realm):
		return {
			"Active": True,
			"Taxable": False,
			"UnitPrice": Decimal("0"),
			"Type": "NonInventory",
			"PurchaseCost": Decimal("0"),
			"TrackQtyOnHand": False,
		}

	def complete(self, realm, data, body, old):
		item_type = data.get("Type")
		if item_type not in ITEM_TYPES:
			raise F.business(
				f"Item Type {item_type!r} is not supported; use one of {', '.join(ITEM_TYPES)}.", "Type"
			)
		if old is not None and old.data.get("Type") != item_type:
			raise F.business("You can't change the type of an item.", "Type")
		if item_type in ("Service", "NonInventory") and not data.get("IncomeAccountRef"):
			raise F.required("IncomeAccountRef")
		if item_type == "Inventory":
			if not realm.pref("ProductAndServicesPrefs", "QuantityOnHand", default=False):
				raise F.business("Inventory items require quantity on hand tracking to be turned on.", "Type")
			for element in ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef"):
				if not data.get(element):
					raise F.required(element)
			if data.get("QtyOnHand") is None:
				raise F.required("QtyOnHand")
			if not data.get("InvStartDate"):
				raise F.required("InvStartDate")
			data["TrackQtyOnHand"] = True


class AccountSpec(NameListSpec):
	name = "Account"
	what = "account"
	keep_on_full_update = ("CurrentBalance", "CurrentBalanceWithSubAccounts", "CurrencyRef")
	CLASSIFICATION = {
		"Bank": "Asset",
		"Other Current Asset": "Asset",
		"Fixed Asset": "Asset",
		"Other Asset": "Asset",
		"Accounts Receivable": "Asset",
		"Equity": "Equity",
		"Expense": "Expense",
		"Other Expense": "Expense",
		"Cost of Goods Sold": "Expense",
		"Accounts Payable": "Liability",
		"Credit Card": "Liability",
		"Long Term Liability": "Liability",
		"Other Current Liability": "Liability",
		"Income": "Revenue",
		"Other Income": "Revenue",
	}

	def defaults(self, realm):
		return {
			"Active": True,
			"SubAccount": False,
			"CurrentBalance": Decimal("0"),
			"CurrentBalanceWithSubAccounts": Decimal("0"),
			"CurrencyRef": currency_ref(realm.home_currency),
		}

	def render(self, realm, record):
		"""CurrentBalance of a bank or other current asset account follows the payments and deposits in it
		(sandbox/entities/deposit.account_balance says what is counted)."""
		if record.data.get("AccountType") not in ("Bank", "Other Current Asset"):
			return record.data
		from .deposit import account_balance

		out = dict(record.data)
		out["CurrentBalance"] = out["CurrentBalanceWithSubAccounts"] = account_balance(realm, record.id)
		return out

	def complete(self, realm, data, body, old):
		acct_type = data.get("AccountType")
		if not acct_type:
			raise F.required("AccountType")
		if acct_type not in self.CLASSIFICATION:
			raise F.business(f"Invalid AccountType {acct_type}", "AccountType")
		data["Classification"] = self.CLASSIFICATION[acct_type]
		data["SubAccount"] = bool(data.get("ParentRef"))


class ClassSpec(NameListSpec):
	name = "Class"
	what = "class"

	def complete(self, realm, data, body, old):
		data["SubClass"] = bool(data.get("ParentRef"))


class DepartmentSpec(NameListSpec):
	name = "Department"
	what = "location"

	def complete(self, realm, data, body, old):
		data["SubDepartment"] = bool(data.get("ParentRef"))


class TermSpec(NameListSpec):
	name = "Term"
	what = "term"

	def defaults(self, realm):
		return {"Active": True, "Type": "STANDARD", "DiscountDays": 0}

	def complete(self, realm, data, body, old):
		if data.get("Type") == "STANDARD" and data.get("DueDays") is None:
			raise F.required("DueDays")


class PaymentMethodSpec(NameListSpec):
	name = "PaymentMethod"
	what = "payment method"

	def defaults(self, realm):
		return {"Active": True, "Type": "NON_CREDIT_CARD"}


class TaxCodeSpec(NameListSpec):
	"""Read-only through the plain API: QBO creates TaxCode/TaxRate through TaxService (§9 Tax)."""

	name = "TaxCode"
	read_only = True
	cdc = False  # §2: CDC does not cover TaxCode/TaxRate


class TaxRateSpec(NameListSpec):
	name = "TaxRate"
	read_only = True
	cdc = False


class CompanyCurrencySpec(NameListSpec):
	"""{Code, Name, Active}; only under multicurrency; deactivated, never deleted (§9 Multicurrency)."""

	name = "CompanyCurrency"
	name_field = "Code"
	what = "currency"

	def prepare(self, realm, data, body, old, now):
		if not realm.multicurrency:
			raise F.business("Multicurrency is not enabled for this company.", "Code")
		code = str(data.get("Code") or "").upper()
		if not code:
			raise F.required("Code")
		if old is not None and old.data.get("Code") != code:
			raise F.business("You can't change the code of a currency.", "Code")
		data["Code"] = code
		data["Name"] = C.DEFAULT_CURRENCY_NAMES.get(code, code)
		data.setdefault("Active", True)
		for rec in realm.live("CompanyCurrency"):
			if rec.data.get("Code") == code and (old is None or rec.id != old.id):
				raise F.duplicate_name("Another currency is already using this code.")
		return {}
