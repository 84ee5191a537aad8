"""The QBO Go-Live Plan form reads as a bookkeeper's plan: each row's Action in words from one constants place
(sync/constants.GO_LIVE_ACTION_LABELS, which the form's Select options are), and no "0.00" on customers and
items (the amount column is a text filled for documents only). Frappe-free: the DocType JSON and the engine."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import golive as G

ROW = Path(__file__).resolve().parents[1] / "nexora_qbo/nexora_qbo/doctype/qbo_go_live_plan_row/qbo_go_live_plan_row.json"


def _fields() -> dict:
	return {f["fieldname"]: f for f in json.loads(ROW.read_text())["fields"]}


def test_every_action_has_words_and_the_form_offers_exactly_them():
	assert set(C.GO_LIVE_ACTION_LABELS) == set(G.ACTIONS) == set(C.GO_LIVE_ACTION_GROUPS)
	options = _fields()["action"]["options"].split("\n")
	assert options == [C.GO_LIVE_ACTION_LABELS[a] for a in G.ACTIONS]
	assert not set(options) & set(G.ACTIONS)  # no engine key is offered or shown
	assert len(set(options)) == len(options)


def test_the_amount_column_is_for_documents_only():
	fields = _fields()
	assert not fields["amount"].get("in_list_view") and fields["amount"].get("hidden")
	assert fields["amount_shown"]["in_list_view"] and fields["amount_shown"]["fieldtype"] == "Data"
	assert sum(f.get("columns", 0) for f in fields.values() if f.get("in_list_view")) <= 10  # Frappe drops the rest


def test_the_printed_plan_groups_rows_in_words():
	plan = G.GoLivePlan(realm_id="1", company="Nexora Staffing Inc", go_live_date=date(2026, 11, 1), rows=[
		G.GoLiveRow("Customer", C.CUSTOMER, G.LINK, "4", "Acme", "Acme", "same email"),
		G.GoLiveRow("Invoice", C.INVOICE, G.OPENING, "9", "1042", None, "open", amount=Decimal("450.00"), customer="Acme")])
	text = G.format_plan(plan)
	assert f"{C.GO_LIVE_ACTION_GROUPS[G.LINK]}: 1" in text and f"{C.GO_LIVE_ACTION_GROUPS[G.OPENING]}: 1" in text


def test_a_finished_go_live_says_what_it_did_in_words():
	text = G.format_result({"imported": 9, "opening": 2, "excluded": 0, "push_done": 1, "push_failed": 0,
		"push_parked": 0, "already_linked": 0})
	assert text == (f"9 {C.GO_LIVE_RESULT_WORDS['imported']}; 2 {C.GO_LIVE_RESULT_WORDS['opening']}; "
		f"1 {C.GO_LIVE_RESULT_WORDS['push_done']}")
	assert "push_" not in text and "excluded" not in text  # no key, and nothing that did not happen
	assert "excluded" in G.format_result({"excluded": 3, "push_done": 0}).lower()
	assert G.format_result({"excluded": 0, "push_done": 0}).startswith("Nothing to do")
