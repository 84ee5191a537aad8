app_name = "nexora_qbo"
app_title = "Nexora QBO"
app_publisher = "Nexora QBO"
app_description = "Two-way QuickBooks Online sync for ERPNext v15"
app_email = "dev@nexora.example"
app_license = "mit"
required_apps = ["frappe/erpnext"]

# Frappe wiring only: every handler lives in nexora_qbo/erpnext/ (hooks.py must not import frappe).

# Install / migrate / tests ---------------------------------------------------------------------------------
after_install = "nexora_qbo.erpnext.setup.after_install"
after_migrate = "nexora_qbo.erpnext.setup.after_migrate"
before_uninstall = "nexora_qbo.erpnext.setup.before_uninstall"
# Our test runs do not run ERPNext's before_tests: make sure a Company and a fiscal year exist.
before_tests = "nexora_qbo.erpnext.setup.before_tests"

# "Send to QuickBooks" on Customer and Item (a person's per-record choice, issue 7 section 4)
# and the QBO state at the top of every synced document's form (qbo_status.js)
doctype_js = {
	"Customer": ["public/js/send_master_to_qbo.js", "public/js/qbo_status.js"],
	"Item": ["public/js/send_master_to_qbo.js", "public/js/qbo_status.js"],
	"Sales Invoice": "public/js/qbo_status.js",
	"Payment Entry": "public/js/qbo_status.js",
}
# the list view's QuickBooks indicator column
doctype_list_js = {
	"Customer": "public/js/qbo_status_list.js",
	"Item": "public/js/qbo_status_list.js",
	"Sales Invoice": "public/js/qbo_status_list.js",
	"Payment Entry": "public/js/qbo_status_list.js",
}

# Document events: record the intent in the outbox (same transaction), enqueue the push after commit.
# Never HTTP, never an exception for a remote reason (a QBO outage never blocks a submit).
_EVENTS = "nexora_qbo.erpnext.events"
doc_events = {
	"Customer": {
		"after_insert": f"{_EVENTS}.customer_after_insert",
		"on_update": f"{_EVENTS}.customer_on_update",
		"on_trash": f"{_EVENTS}.customer_on_trash",
	},
	"Item": {
		"after_insert": f"{_EVENTS}.item_after_insert",
		"on_update": f"{_EVENTS}.item_on_update",
		"on_trash": f"{_EVENTS}.item_on_trash",
	},
	"Item Price": {
		# issue 11: the standard selling rate reaches QBO's UnitPrice
		"after_insert": f"{_EVENTS}.item_price_changed",
		"on_update": f"{_EVENTS}.item_price_changed",
	},
	"Sales Invoice": {
		# returns (is_return=1) are QBO credit memos; the handler decides
		"on_submit": f"{_EVENTS}.sales_invoice_on_submit",
		"on_cancel": f"{_EVENTS}.sales_invoice_on_cancel",
		"on_update_after_submit": f"{_EVENTS}.sales_invoice_on_update_after_submit",
	},
	"Payment Entry": {
		"on_submit": f"{_EVENTS}.payment_entry_on_submit",
		"before_cancel": f"{_EVENTS}.payment_entry_before_cancel",  # not while in a bank deposit (issue 13)
		"on_cancel": f"{_EVENTS}.payment_entry_on_cancel",
	},
	"Journal Entry": {
		# issue 13: a Journal Entry that deposits received payments is a QBO bank Deposit (the handler decides)
		"on_submit": f"{_EVENTS}.journal_entry_on_submit",
		"on_cancel": f"{_EVENTS}.journal_entry_on_cancel",
	},
}

# Scheduler: a tick fans out one deduplicated pull per connected realm on the long queue.
scheduler_events = {
	"cron": {
		"*/5 * * * *": ["nexora_qbo.erpnext.jobs.scheduler_tick"],
	},
	"daily_long": [
		"nexora_qbo.erpnext.jobs.daily_sweep",
		"nexora_qbo.erpnext.jobs.purge_logs",
		"nexora_qbo.erpnext.jobs.nightly_tie_out",  # AR tie-out per realm, kept per day (QBO Tie Out)
	],
	"daily": ["nexora_qbo.erpnext.notify.daily_digest"],  # e-mail: what is open in each realm's review queue
}

# Deleting an ERPNext document must not be blocked by our mapping/audit rows pointing at it (Dynamic Links);
# the audit trail keeps the name of what it talked about.
ignore_links_on_delete = ["QBO Entity Map", "QBO Sync Log", "QBO Sync Event", "QBO Outbox", "QBO Conflict"]

# Log Settings clears these daily; QBO Sync Log.clear_old_logs never goes below QBO Settings' retention.
default_log_clearing_doctypes = {"QBO Sync Log": 2555}

# Nobody reads a QBO Realm's tokens or client secret back through the API (Frappe lets a System Manager
# read any Password field with frappe.client.get_password).
override_whitelisted_methods = {"frappe.client.get_password": "nexora_qbo.erpnext.guards.get_password"}
