"""Issue 10 in the bench: what the desk tells a bookkeeper and an admin.

- a document with an open review item says "In Review" (form state and QBO Sync Status), even when the
  engine saves its mapping as synced again, and goes back to "Synced" when the item is settled;
- a new review item notifies the realm's reviewers in the desk (and nobody else);
- the daily digest e-mails each realm's open review items with links to them;
- a background save of the realm keeps the Redirect URI and webhook URL registered with Intuit;
- a Payment Entry imported from QuickBooks carries the QuickBooks payment's own number and date.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from decimal import Decimal

import frappe
from frappe.tests.utils import FrappeTestCase
from frappe.utils import nowdate

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.events import inbound
from nexora_qbo.erpnext.store import FrappeStore
from nexora_qbo.erpnext.tests.utils import ensure_company, make_realm
from nexora_qbo.sync.ports import Conflict, Mapping

COMPANY = "_Test NQB Desk"
ABBR = "_TNQK"


class TestDesk(FrappeTestCase):
	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_company(COMPANY, ABBR)

	@classmethod
	def tearDownClass(cls):
		# the notification and digest paths run job entry points that commit: leave no connected realm behind
		# for other test modules (a scheduler tick would find it)
		for name in frappe.get_all(K.REALM, filters={"company": COMPANY}, pluck="name"):
			frappe.db.delete(K.REALM, name)
		frappe.db.commit()  # nosemgrep: test cleanup of rows an entry point committed
		super().tearDownClass()

	def setUp(self):
		frappe.set_user("Administrator")
		self.realm_id = "4620" + "".join(secrets.choice("0123456789") for _ in range(11))
		for name in frappe.get_all(K.REALM, filters={"company": COMPANY}, pluck="name"):
			frappe.db.delete(K.REALM, name)
		self.realm = make_realm(COMPANY, self.realm_id)
		self.qbo_id = str(secrets.randbelow(10**9))
		self.store = FrappeStore()
		with inbound():
			self.customer = frappe.get_doc(
				{
					"doctype": "Customer",
					"customer_name": f"Desk Customer {secrets.token_hex(3)}",
					"customer_group": frappe.db.get_value("Customer Group", {"is_group": 0}, "name"),
					"territory": frappe.db.get_value("Territory", {"is_group": 0}, "name"),
				}
			).insert(ignore_permissions=True)

	def _map(self):
		self.store.save_mapping(
			Mapping(
				self.realm_id,
				"customer",
				self.customer.name,
				"Customer",
				self.qbo_id,
				sync_token="0",
				base={"Id": self.qbo_id, "DisplayName": self.customer.customer_name},
				status="active",
				updated_at=datetime.now(timezone.utc),
			)
		)

	def _conflict(self, **kw) -> Conflict:
		c = Conflict(
			realm_id=self.realm_id,
			local_type="customer",
			local_id=self.customer.name,
			qbo_entity="Customer",
			qbo_id=self.qbo_id,
			kind="field_conflict",
			reason="The e-mail was changed in both books. Pick the one to keep.",
			actions=["keep_qbo", "keep_local"],
			status="open",
			created_at=datetime.now(timezone.utc),
			**kw,
		)
		return self.store.add_conflict(c)

	def _status(self) -> str:
		return frappe.db.get_value("Customer", self.customer.name, K.CF_SYNC_STATUS)

	# ------------------------------------------------------------------------------------ status
	def test_in_review_wins_over_synced_until_the_item_is_settled(self):
		from nexora_qbo.erpnext.doc_status import get_document_state

		self._map()
		self.assertEqual(self._status(), "Synced")
		[state] = get_document_state("Customer", self.customer.name)
		self.assertEqual(state["state"], "synced")
		self.assertTrue(state["label"].startswith(f"In QuickBooks as {self.customer.customer_name}"), state)

		c = self._conflict()
		self.assertEqual(self._status(), "In Review")
		self._map()  # the engine saves the mapping again (e.g. a later pull): still in review
		self.assertEqual(self._status(), "In Review")
		[state] = get_document_state("Customer", self.customer.name)
		self.assertEqual(state["state"], "in_review")
		self.assertEqual(state["label"], "In review: Changed on both sides")  # what happened, in a few words
		self.assertEqual(state["reason"], c.reason)  # the whole reason: the line's tooltip
		self.assertEqual(state["action"], "Open")
		self.assertEqual(state["conflict"], c.id)

		c.status, c.resolution = "resolved", "keep_qbo"
		self.store.save_conflict(c)
		self.assertEqual(self._status(), "Synced")

	def test_a_failed_change_says_waiting_with_its_reason(self):
		from nexora_qbo.erpnext.doc_status import realm_states
		from nexora_qbo.sync.ports import OutboxEntry

		self._map()
		e = self.store.add_outbox(
			OutboxEntry(self.realm_id, "customer", self.customer.name, "update", created_at=datetime.now(timezone.utc))
		)
		e.state, e.last_error = "failed", "QuickBooks did not answer in time."
		self.store.save_outbox(e)
		[state] = realm_states("Customer", self.customer.name)
		self.assertEqual(state["state"], "waiting")
		self.assertEqual(state["label"], "Waiting: QuickBooks did not answer in time.")
		self.assertEqual(state["action"], "Retry")

	# ------------------------------------------------------------------------------ notifications
	def _user(self, role: str) -> str:
		email = f"desk-{secrets.token_hex(3)}@example.com"
		frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": "Desk", "send_welcome_email": 0, "roles": [{"role": role}]}
		).insert(ignore_permissions=True)
		return email

	def test_a_new_review_item_notifies_the_realms_reviewers_only(self):
		reviewer, other = self._user("Accounts User"), self._user("Accounts Manager")
		frappe.db.set_value(K.REALM, self.realm, "reviewer_users", reviewer)
		c = self._conflict()
		logs = frappe.get_all(
			"Notification Log",
			filters={"document_type": K.CONFLICT, "document_name": c.id},
			fields=["for_user", "subject"],
		)
		self.assertEqual([log.for_user for log in logs], [reviewer])
		self.assertIn(self.realm, logs[0].subject)
		self.assertIn(self.customer.name, logs[0].subject)
		self.assertNotIn("field_conflict", logs[0].subject)  # the kind in words, not the engine's name
		self.assertFalse(frappe.db.exists("Notification Log", {"for_user": other, "document_name": c.id}))

	def test_the_reviewer_role_is_used_when_the_realm_names_nobody(self):
		from nexora_qbo.erpnext.notify import reviewers

		manager = self._user("Accounts Manager")
		self.assertIn(manager, reviewers(self.realm))
		frappe.db.set_value(K.REALM, self.realm, "reviewer_role", "Sales User")
		self.assertNotIn(manager, reviewers(self.realm))

	def test_the_daily_digest_mails_open_items_with_links(self):
		from nexora_qbo.erpnext.notify import daily_digest, digest_for

		_outgoing_email_account()
		reviewer = self._user("Accounts User")
		frappe.db.set_value(K.REALM, self.realm, "reviewer_users", reviewer)
		c = self._conflict()
		before = frappe.db.count("Email Queue")
		self.assertGreaterEqual(daily_digest(), 1)
		mails = frappe.get_all(
			"Email Queue",
			filters={"reference_doctype": K.REALM, "reference_name": self.realm},
			fields=["name", "message"],
			order_by="creation desc",
			limit=1,
		)
		self.assertGreater(frappe.db.count("Email Queue"), before)
		self.assertIn(f"/app/qbo-conflict/{c.id}", mails[0].message)
		self.assertIn("Pick the one to keep", digest_for(self.realm)[1])  # the reason, in the mail's HTML
		self.assertTrue(
			frappe.db.exists("Email Queue Recipient", {"parent": mails[0].name, "recipient": reviewer})
		)

	# ------------------------------------------------------------------------------ realm defects
	def test_a_background_save_keeps_the_addresses_registered_with_intuit(self):
		registered = "https://books.example.com/api/method/" + K.CALLBACK_METHOD
		hook = "https://books.example.com/api/method/" + K.WEBHOOK_METHOD
		frappe.db.set_value(K.REALM, self.realm, {"redirect_uri": registered, "webhook_url": hook})
		doc = frappe.get_doc(K.REALM, self.realm)
		doc.last_sync_error = "a job saved the realm"
		doc.save(ignore_permissions=True)
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm, "redirect_uri"), registered)
		self.assertEqual(frappe.db.get_value(K.REALM, self.realm, "webhook_url"), hook)
		self.assertEqual(doc.oauth_app().redirect_uri, registered)

	def test_health_says_unreachable_since_the_first_failure(self):
		from nexora_qbo.erpnext.jobs import _record_failure
		from nexora_qbo.erpnext.realm_health import health
		from nexora_qbo.qbo.errors import ConnectionFailed

		self.assertEqual(health(frappe.get_doc(K.REALM, self.realm))["label"], "Connected")
		_record_failure(self.realm, self.realm_id, "pull", ConnectionFailed("connection refused"))
		frappe.db.commit()  # _record_failure writes autonomously; read it back in this transaction
		label = health(frappe.get_doc(K.REALM, self.realm))["label"]
		self.assertTrue(label.startswith("QuickBooks unreachable since "), label)

	# ------------------------------------------------------------------------------ payment entry
	def test_a_payment_from_quickbooks_carries_its_own_number_and_date(self):
		from nexora_qbo.erpnext.ledger import FrappeLedger

		record = {
			"customer": self.customer.name,
			"txn_date": nowdate(),
			"total": Decimal("50.00"),
			"currency": "USD",
			"exchange_rate": Decimal(1),
			"reference": None,
			"applications": [],
			"unapplied": Decimal("50.00"),
			"state": "submitted",
			"qbo_txn_id": "177",
		}
		ledger = FrappeLedger(self.store)
		with inbound():
			name = ledger.upsert_from_qbo(COMPANY, "payment", None, record)
		pe = frappe.get_doc("Payment Entry", name)
		self.assertEqual(pe.reference_no, "QBO Payment 177")
		self.assertEqual(str(pe.reference_date), nowdate())
		# read back, it is no QuickBooks reference number (nothing to send back, nothing differs)
		self.assertIsNone(ledger.get(COMPANY, "payment", name)["reference"])
		with inbound():
			name2 = ledger.upsert_from_qbo(COMPANY, "payment", None, {**record, "reference": "CHK-4411"})
		self.assertEqual(frappe.db.get_value("Payment Entry", name2, "reference_no"), "CHK-4411")


def _outgoing_email_account() -> None:
	"""A default outgoing account (tests never send: Frappe queues the mail and the queue is not flushed)."""
	if frappe.db.exists("Email Account", {"default_outgoing": 1, "enable_outgoing": 1}):
		return
	frappe.get_doc(
		{
			"doctype": "Email Account",
			"email_account_name": "_Test NQB Outgoing",
			"email_id": "nqb-outgoing@example.com",
			"enable_outgoing": 1,
			"default_outgoing": 1,
			"smtp_server": "127.0.0.1",
			"smtp_port": 2525,
			"no_smtp_authentication": 1,
			"awaiting_password": 0,
		}
	).insert(ignore_permissions=True)


class TestReviewButtonEffects(FrappeTestCase):
	"""Seen on screen: "Keep QuickBooks" on an invoice edited in QuickBooks promised that ERPNext takes
	QuickBooks' version, while the engine never rewrites a submitted document (it asks for an amendment)."""

	def test_keep_quickbooks_on_an_edited_invoice_says_it_asks_for_an_amendment(self):
		from nexora_qbo.erpnext.review_view import actions

		edited = {a["action"]: a for a in actions(frappe._dict(kind="transaction_edited",
			allowed_actions="keep_qbo,keep_local,dismiss"))}
		self.assertIn("not rewritten", edited["keep_qbo"]["erpnext"])
		self.assertNotIn("takes QuickBooks' version", edited["keep_qbo"]["erpnext"])
		# on a customer changed on both sides, Keep QuickBooks does take QuickBooks' values
		master = {a["action"]: a for a in actions(frappe._dict(kind="field_conflict", allowed_actions="keep_qbo"))}
		self.assertIn("takes QuickBooks' version", master["keep_qbo"]["erpnext"])


class TestSeenOnScreen(FrappeTestCase):
	"""What a look at the screens found: the review comparison named QuickBooks' unmapped term 2 "QuickBooks
	terms 2 (not mapped)" and showed it as a difference where both books agree; the workspace heading said the
	company twice; an auditor could not find every exchange about one invoice from the QBO Sync Log list."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		ensure_company(COMPANY, ABBR)

	def setUp(self):
		frappe.set_user("Administrator")
		for name in frappe.get_all(K.REALM, filters={"company": COMPANY}, pluck="name"):
			frappe.db.delete(K.REALM, name)
		self.realm_id = "4621" + "".join(secrets.choice("0123456789") for _ in range(11))
		self.realm = make_realm(COMPANY, self.realm_id)

	# no purge of committed audit rows: the realm is never committed here, so append_audit_row writes inside the
	# test's transaction (rolled back with it), and an autonomous delete would wait on that transaction's locks

	def _comparison(self, base: dict, local: dict, qbo: dict) -> str:
		import json

		from nexora_qbo.erpnext.review_view import render

		return render(frappe._dict(realm=self.realm, kind="transaction_edited", diffs=None,
			base_version=json.dumps(base), local_version=json.dumps(local), qbo_version=json.dumps(qbo)))

	def test_the_comparison_names_quickbooks_lists_and_hides_what_agrees(self):
		FrappeStore().save_references(self.realm_id, "Term", [
			{"qbo_id": "2", "name": "Net 30", "full_name": "Net 30", "active": True},
			{"qbo_id": "5", "name": "Net 60", "full_name": "Net 60", "active": True}])
		line = {"item": None, "qty": "40", "rate": "45", "amount": "1800"}
		edited = {**line, "qty": "38", "amount": "1710"}
		# ERPNext's "Net 30" and QuickBooks' term 2, which QuickBooks calls "Net 30": the same, not a difference
		html = self._comparison({"terms": "qbo:2", "lines": [line]}, {"terms": "Net 30", "lines": [line]},
			{"terms": "qbo:2", "lines": [edited]})
		self.assertNotIn("Payment terms", html)
		self.assertNotIn("not mapped", html)
		# ERPNext cannot hold an unmapped term (its field is empty); QuickBooks' is unchanged: nothing to compare
		html = self._comparison({"terms": "qbo:2", "lines": [line]}, {"terms": None, "lines": [line]},
			{"terms": "qbo:2", "lines": [edited]})
		self.assertNotIn("Payment terms", html)
		# a real change in QuickBooks is shown, by name
		html = self._comparison({"terms": "qbo:2"}, {"terms": None}, {"terms": "qbo:5"})
		self.assertIn("Payment terms", html)
		self.assertIn("Net 60", html)
		self.assertIn("Net 30", html)  # what was last synced
		self.assertNotIn("not mapped", html)

	def test_the_workspace_heading_names_the_company_once(self):
		from nexora_qbo.erpnext.workspace_data import realm_overview

		frappe.db.set_value(K.REALM, self.realm, "qbo_company_name", COMPANY)
		[card] = [r for r in realm_overview()["realms"] if r["realm"] == self.realm]
		self.assertEqual(card["title"], COMPANY)
		frappe.db.set_value(K.REALM, self.realm, "qbo_company_name", "Desk Staffing (QuickBooks)")
		[card] = [r for r in realm_overview()["realms"] if r["realm"] == self.realm]
		self.assertEqual(card["title"].count(COMPANY), 1)
		self.assertIn("Desk Staffing (QuickBooks)", card["title"])

	def test_every_exchange_about_invoice_1042_is_found_from_the_list(self):
		from nexora_qbo.nexora_qbo.doctype.qbo_sync_log.qbo_sync_log import append_audit_row
		from nexora_qbo.sync.ports import AuditRow

		def row(**kw):
			return AuditRow(**{"realm_id": self.realm_id, "direction": "outbound", "qbo_entity": "Invoice",
				"operation": "create", "timestamp": datetime.now(timezone.utc), "request_id": secrets.token_hex(8), **kw})

		tag = str(secrets.randbelow(10**6)).zfill(6)
		number = f"1042-{tag}"
		create = append_audit_row(row(local_type="invoice", local_id=f"ACC-SINV-{tag}",
			request_payload=f'{{"DocNumber": "{number}", "Line": []}}',
			response_payload=f'{{"Invoice": {{"Id": "77{tag}", "DocNumber": "{number}"}}}}'), self.realm)
		pull = append_audit_row(row(operation="cdc", direction="inbound", request_payload=None,
			response_payload=f'{{"CDCResponse": [{{"Invoice": [{{"Id": "77{tag}", "DocNumber": "{number}"}}]}}]}}'),
			self.realm)
		unrelated = append_audit_row(row(response_payload=f'{{"Invoice": {{"DocNumber": "2042-{tag}"}}}}'), self.realm)
		meta = frappe.get_meta(K.SYNC_LOG)
		self.assertTrue(meta.get_field("search_keys").in_standard_filter)  # a filter box on the list
		# what the list's standard filter sends for "1042-…": a like filter on the field
		found = frappe.get_list(K.SYNC_LOG, filters=[["search_keys", "like", f"%{number}%"]], pluck="name")
		self.assertEqual(sorted(found), sorted([create, pull]))
		self.assertNotIn(unrelated, found)
		rid = frappe.db.get_value(K.SYNC_LOG, unrelated, "request_id")
		self.assertEqual(frappe.get_list(K.SYNC_LOG, filters=[["search_keys", "like", f"%{rid}%"]], pluck="name"),
			[unrelated])
