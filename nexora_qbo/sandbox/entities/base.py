"""Rules every entity shares: system fields, reference resolution, name-list deactivation, uniqueness.

qbo-api.md §9 "Common to all": Id/SyncToken strings, MetaData, domain "QBO", sparse false, references as
{"value","name"} with the name ignored on write. §1: referencing an inactive entity → 610; name lists are
deactivated, never deleted, and renamed with " (deleted)".
"""

from __future__ import annotations

from .. import constants as C
from .. import faults as F
from ..model import Realm, Record

SYSTEM_FIELDS = ("Id", "SyncToken", "MetaData", "domain", "sparse", "status")

# Reference field -> entity it points at. The walk is recursive, so line-level refs are covered too.
REF_ENTITIES = {
	"CustomerRef": "Customer",
	"ItemRef": "Item",
	"ClassRef": "Class",
	"DepartmentRef": "Department",
	"SalesTermRef": "Term",
	"TermRef": "Term",
	"IncomeAccountRef": "Account",
	"ExpenseAccountRef": "Account",
	"AssetAccountRef": "Account",
	"DepositToAccountRef": "Account",
	"ARAccountRef": "Account",
	"ItemAccountRef": "Account",
	"DiscountAccountRef": "Account",
	"TxnTaxCodeRef": "TaxCode",
	"DefaultTaxCodeRef": "TaxCode",
	"TaxCodeRef": "TaxCode",
	"TaxRateRef": "TaxRate",
	"SalesTaxCodeRef": "TaxCode",
	"PaymentMethodRef": "PaymentMethod",
	"AccountRef": "Account",  # Deposit lines and CashBack
}
# Refs QBO answers with a "name" (fixtures: CustomerRef/ItemRef/CurrencyRef carry one; TaxCodeRef,
# DepositToAccountRef, ParentRef, DefaultTaxCodeRef do not).
NAMED_REFS = {
	"CustomerRef",
	"ItemRef",
	"ClassRef",
	"DepartmentRef",
	"IncomeAccountRef",
	"ExpenseAccountRef",
	"AssetAccountRef",
	"TaxRateRef",
	"ItemAccountRef",
	"SalesTermRef",
}


def display_name(rec: Record) -> str:
	d = rec.data
	return d.get("FullyQualifiedName") or d.get("DisplayName") or d.get("Name") or d.get("Code") or rec.id


class EntitySpec:
	"""Default behaviour; subclasses override `prepare` and the hooks."""

	name = ""
	name_list = False
	name_field: str | None = None
	deletable = False
	void_style: str | None = None  # "void" (operation=void) or "update" (operation=update&include=void)
	read_only = False
	cdc = True
	# read-only fields a full update keeps from the stored object (everything else omitted is cleared)
	keep_on_full_update: tuple[str, ...] = ()

	def defaults(self, realm: Realm) -> dict:
		return {}

	def prepare(self, realm: Realm, data: dict, body: dict, old: Record | None, now) -> dict:
		"""Validate and complete `data` (the merged object without system fields); return the extras."""
		return {}

	def after_write(self, realm: Realm, record: Record, old_data: dict | None, ctx) -> None:
		pass

	def before_delete(self, realm: Realm, record: Record) -> None:
		pass

	def after_delete(self, realm: Realm, record: Record, ctx) -> None:
		pass

	def void(self, realm: Realm, record: Record, ctx) -> None:
		raise F.unsupported_operation(f"Operation void is not supported for {self.name}.")

	def render(self, realm: Realm, record: Record) -> dict:
		"""Hook for derived read-only values (e.g. Customer.Balance)."""
		return record.data

	# ---- shared helpers ----------------------------------------------------------------------------------
	def apply_defaults(self, realm: Realm, data: dict) -> None:
		for key, value in self.defaults(realm).items():
			data.setdefault(key, value)


def resolve_refs(realm: Realm, node, *, check_active: bool = True, path: str = "") -> None:
	"""Check every known *Ref in the request body exists and is active (610 otherwise); fill names."""
	if isinstance(node, list):
		for item in node:
			resolve_refs(realm, item, check_active=check_active, path=path)
		return
	if not isinstance(node, dict):
		return
	for key, value in node.items():
		if key == "CurrencyRef" and isinstance(value, dict):
			resolve_currency(realm, value)
		elif key in REF_ENTITIES and isinstance(value, dict) and "value" in value:
			target = REF_ENTITIES[key]
			ref_id = str(value.get("value") or "")
			if not ref_id:
				raise F.required(f"{key}.value")
			if key == "TaxCodeRef" and ref_id in ("TAX", "NON"):
				value["value"] = ref_id  # US pseudo codes exist in every company (§9 Tax)
				value.pop("name", None)
				continue
			rec = realm.get(target, ref_id)
			if rec is None or (check_active and rec.data.get("Active") is False):
				raise F.not_found()
			value["value"] = ref_id
			if key in NAMED_REFS:
				value["name"] = display_name(rec)
			else:
				value.pop("name", None)
		elif isinstance(value, (dict, list)):
			resolve_refs(realm, value, check_active=check_active, path=key)


def resolve_currency(realm: Realm, ref: dict) -> None:
	code = str(ref.get("value") or "").upper()
	if not code:
		raise F.required("CurrencyRef.value")
	ref["value"] = code
	if code != realm.home_currency:
		if not realm.multicurrency:
			raise F.business(
				f"Multicurrency is not enabled for this company; the currency must be {realm.home_currency}.",
				"CurrencyRef",
			)
		active = [
			r for r in realm.live("CompanyCurrency") if r.data.get("Code") == code and r.data.get("Active")
		]
		if not active:
			raise F.not_found()
	ref["name"] = C.DEFAULT_CURRENCY_NAMES.get(code, code)


def currency_ref(code: str) -> dict:
	return {"value": code, "name": C.DEFAULT_CURRENCY_NAMES.get(code, code)}


def check_name_chars(value: str, element: str) -> None:
	"""Colons separate parent:child in FullyQualifiedName, so QBO rejects them in names (§9 Customer)."""
	if ":" in value:
		raise F.business(f"{element} cannot contain a colon (:).", element)


def apply_active_suffix(data: dict, old: Record | None, fields: tuple[str, ...]) -> None:
	"""Deactivation appends " (deleted)" (§1); reactivation removes it again."""
	active = data.get("Active", True)
	for f in fields:
		value = data.get(f)
		if not isinstance(value, str):
			continue
		if active is False and not value.endswith(C.DELETED_SUFFIX):
			data[f] = value + C.DELETED_SUFFIX
		elif (
			active is not False
			and value.endswith(C.DELETED_SUFFIX)
			and old is not None
			and old.data.get("Active") is False
		):
			data[f] = value[: -len(C.DELETED_SUFFIX)]


def check_unique(
	realm: Realm,
	entities: tuple[str, ...],
	field: str,
	value: str,
	self_id: str | None,
	self_entity: str,
	what: str,
) -> None:
	"""6240 when another record (active or inactive) holds the same name, compared case-insensitively."""
	key = value.strip().casefold()
	for entity in entities:
		for rec in realm.live(entity):
			if entity == self_entity and rec.id == self_id:
				continue
			other = rec.data.get(field)
			if isinstance(other, str) and other.strip().casefold() == key:
				raise F.duplicate_name(
					f"Another {what} is already using this name. Please use a different name."
				)


def fully_qualified(realm: Realm, entity: str, data: dict, name_field: str) -> str:
	"""Parent:Child names for sub-customers/sub-items/sub-classes (§9 Customer: 'Parent:Child')."""
	name = data.get(name_field, "")
	parent = data.get("ParentRef")
	if isinstance(parent, dict) and parent.get("value"):
		prec = realm.get(entity, str(parent["value"]))
		if prec is not None:
			return f"{prec.data.get('FullyQualifiedName') or prec.data.get(name_field)}:{name}"
	return name
