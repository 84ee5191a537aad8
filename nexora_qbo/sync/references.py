"""QBO's own reference lists (Class, Department, Term, TaxCode, PaymentMethod, Account) kept per realm.

Why: the realm's maps translate ERPNext names to QBO Ids; typing Ids by hand is how classes end up on the
wrong P&L line. The lists are read from QBO (`SyncEngine.refresh_references`, run by the pull job) and stored
with the Store (`save_references` / `list_references`), so people pick from them, and `suggest` proposes a
mapping by name (case/space-insensitive, "Parent:Child" matched on the full name and on the last part).
"""
from __future__ import annotations

from nexora_qbo.sync.services import Collaborator

from nexora_qbo.sync import audit
from nexora_qbo.sync import constants as C
from nexora_qbo.sync import records as R

REFERENCE_TYPES = ("Class", "Department", "Term", "TaxCode", "PaymentMethod", "Account")


def row_of(ref_type: str, obj: dict) -> dict:
	name = obj.get("Name") or obj.get("DisplayName") or str(obj.get("Id"))
	return {
		"ref_type": ref_type,
		"qbo_id": str(obj.get("Id")),
		"name": R.strip_deleted_suffix(name),
		"full_name": obj.get("FullyQualifiedName") or name,
		"active": obj.get("Active", True) is not False,
		"detail": obj.get("AccountType") or (f"{obj.get('DueDays')} days" if obj.get("DueDays") is not None else None),
	}


def suggest(local_names: list[str], rows: list[dict]) -> dict[str, str]:
	"""local name → QBO Id for names that match exactly one active QBO entry by name."""
	by_name: dict[str, list[str]] = {}
	for row in rows:
		if not row.get("active", True):
			continue
		keys = {R.normalize_name(row["name"]), R.normalize_name(row["full_name"]),
			R.normalize_name(str(row["full_name"]).split(":")[-1])}
		for k in keys - {None}:
			by_name.setdefault(k, []).append(row["qbo_id"])
	out = {}
	for local in local_names:
		key = R.normalize_name(_erpnext_base_name(local))
		ids = sorted(set(by_name.get(key, [])))
		if len(ids) == 1:
			out[local] = ids[0]
	return out


def _erpnext_base_name(name: str) -> str:
	"""ERPNext suffixes company abbreviations ("Clerical - NX", "Sales - NX"): match on the part before."""
	return name.rsplit(" - ", 1)[0] if " - " in name else name


class References(Collaborator):
	"""QBO's reference lists (classes, locations, terms, tax codes, payment methods, accounts) per realm."""

	def refresh_references(self, realm_id: str, types: tuple[str, ...] = REFERENCE_TYPES) -> dict[str, int]:
		"""Read each list from QBO (active and inactive, so a deactivated class shows as such) and store it."""
		ctx = self.services.context(realm_id)
		counts = {}
		for ref_type in types:
			with audit.operation(C.INBOUND, "reference"):
				objs = list(ctx.client.query_all(ref_type, include_inactive=ref_type != "TaxCode"))
			rows = [row_of(ref_type, o) for o in objs]
			self.store.save_references(realm_id, ref_type, rows)
			counts[ref_type] = len(rows)
		return counts

	def suggest_mapping(self, realm_id: str, ref_type: str, local_names: list[str]) -> dict[str, str]:
		return suggest(local_names, self.store.list_references(realm_id, ref_type))
