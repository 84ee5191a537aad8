"""Default QBO accounts for a realm, discovered from the company's own chart of accounts.

Why: a Service item cannot be created in QBO without an IncomeAccountRef, an Inventory item also needs
COGS and asset accounts, and a Payment lands in a deposit account. An admin who connects a realm and runs
the initial import should not have to look up QBO account Ids first (users.md #8: "missing mapping rejects
the whole document"). We choose by QBO's AccountType/AccountSubType, which every QBO company has, and only
fill what the admin left empty: an explicit choice is never overwritten.
"""
from __future__ import annotations

from typing import Any, Iterable

# setting field -> candidate (AccountType, AccountSubType) pairs in order of preference; None = any subtype
DEFAULT_ACCOUNT_RULES: dict[str, tuple[tuple[str, str | None], ...]] = {
	"default_income_account_id": (("Income", "ServiceFeeIncome"), ("Income", "SalesOfProductIncome"), ("Income", None)),
	"default_expense_account_id": (("Cost of Goods Sold", "SuppliesMaterialsCogs"), ("Cost of Goods Sold", None)),
	"default_asset_account_id": (("Other Current Asset", "Inventory"),),
	"default_deposit_account_id": (("Other Current Asset", "UndepositedFunds"), ("Bank", None)),
}


def missing_defaults(settings: Any) -> list[str]:
	"""The default-account settings the admin left empty."""
	return [name for name in DEFAULT_ACCOUNT_RULES if not getattr(settings, name, None)]


def choose_defaults(accounts: Iterable[dict], wanted: Iterable[str]) -> dict[str, str]:
	"""Pick an account Id for each wanted setting from QBO Account records (active ones only).

	Lowest Id wins among equal candidates, so the choice is stable from one run to the next.
	"""
	active = sorted(
		(a for a in accounts if a.get("Active", True)),
		key=lambda a: (len(str(a.get("Id", ""))), str(a.get("Id", ""))),
	)
	chosen: dict[str, str] = {}
	for name in wanted:
		for acct_type, sub_type in DEFAULT_ACCOUNT_RULES[name]:
			match = next(
				(a for a in active if a.get("AccountType") == acct_type
					and (sub_type is None or a.get("AccountSubType") == sub_type)),
				None,
			)
			if match is not None:
				chosen[name] = str(match["Id"])
				break
	return chosen
