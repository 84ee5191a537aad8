"""A realm connected without default accounts gets them from QBO's chart of accounts at initial import."""
from __future__ import annotations

from nexora_qbo.sync import constants as C
from nexora_qbo.sync.defaults import choose_defaults
from nexora_qbo.sync.ports import RealmSettings

CO = "Nexora Staffing Inc"


def test_initial_import_fills_empty_default_accounts_and_new_items_push(harness, sandbox):
	realm_id = sandbox.create_realm()
	sandbox.set_options(realm_id, per_second=100000, per_minute=1000000, batch_per_minute=100000)
	accounts = sandbox.seed_info(realm_id)["accounts"]
	harness.engine.connect(RealmSettings(realm_id=realm_id, company=CO))  # no account chosen by the admin

	harness.engine.initial_import(realm_id)

	settings = harness.store.get_settings(realm_id)
	assert settings.default_income_account_id == accounts["Services"]
	assert settings.default_deposit_account_id == accounts["Undeposited Funds"]
	assert settings.default_expense_account_id == accounts["Cost of Goods Sold"]
	assert settings.default_asset_account_id == accounts["Inventory Asset"]

	item = harness.ledger.create_item(CO, "Weekend Shift Hours", rate="52.00")  # no income account locally
	harness.engine.export_master(realm_id, C.ITEM, item)  # this realm's Company uses it
	harness.engine.push(realm_id)
	qbo_item = sandbox_item(harness, realm_id, item)
	assert qbo_item["IncomeAccountRef"]["value"] == accounts["Services"]


def test_an_admin_choice_is_never_replaced(harness, sandbox):
	realm_id = sandbox.create_realm()
	sandbox.set_options(realm_id, per_second=100000, per_minute=1000000, batch_per_minute=100000)
	accounts = sandbox.seed_info(realm_id)["accounts"]
	chosen = accounts["Reimbursable Expenses Income"]
	harness.engine.connect(RealmSettings(realm_id=realm_id, company=CO, default_income_account_id=chosen))

	harness.engine.initial_import(realm_id)

	settings = harness.store.get_settings(realm_id)
	assert settings.default_income_account_id == chosen
	assert settings.default_deposit_account_id == accounts["Undeposited Funds"]


def test_inactive_accounts_are_not_chosen():
	accounts = [
		{"Id": "3", "AccountType": "Income", "AccountSubType": "ServiceFeeIncome", "Active": False},
		{"Id": "9", "AccountType": "Income", "AccountSubType": "ServiceFeeIncome", "Active": True},
	]
	assert choose_defaults(accounts, ["default_income_account_id"]) == {"default_income_account_id": "9"}


def sandbox_item(harness, realm_id: str, local_id: str) -> dict:
	mapping = harness.store.get_mapping(realm_id, "item", local_id)
	assert mapping is not None, "the item was not pushed"
	return harness.engine.client(realm_id).read("Item", mapping.qbo_id)
