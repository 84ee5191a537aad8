"""Names and numbers of the Frappe layer in one place (DocTypes, roles, queues, job ids, custom fields).

The engine's own words (local types, outbox states, conflict kinds) live in `nexora_qbo.sync.constants`;
this module only adds what exists because we run inside Frappe.
"""

from __future__ import annotations

from nexora_qbo.sync.constants import ACTION_LABELS

MODULE = "Nexora QBO"
APP = "nexora_qbo"

# DocTypes ------------------------------------------------------------------------------------------------
REALM = "QBO Realm"
REALM_REFERENCE = "QBO Realm Reference"
QBO_REFERENCE = "QBO Reference"  # QBO's own lists per realm (issue 11), kept current by the pull  # child table of QBO Realm: local value -> QBO Id maps
ENTITY_MAP = "QBO Entity Map"
OUTBOX = "QBO Outbox"
CURSOR = "QBO Cursor"
SYNC_LOG = "QBO Sync Log"
SYNC_EVENT = "QBO Sync Event"
CONFLICT = "QBO Conflict"
SETTINGS = "QBO Settings"
TIE_OUT = "QBO Tie Out"  # one AR tie-out per realm and day

# Engine local type -> the ERPNext DocType that holds it (credit memos are Sales Invoices with is_return=1,
# payments are Payment Entries of type Receive).
LOCAL_DOCTYPE = {
	"customer": "Customer",
	"item": "Item",
	"invoice": "Sales Invoice",
	"credit_memo": "Sales Invoice",
	"payment": "Payment Entry",
	"deposit": "Journal Entry",  # a bank deposit of received payments (erpnext/mappers/deposit.py)
	"refund": "Payment Entry",  # Pay to a Customer against return invoices (mappers/refund.py)
	"refund_receipt": "Sales Invoice",  # the return invoice of a QBO refund receipt, paid out by a Pay entry
}
SYNCED_DOCTYPES = ("Customer", "Item", "Sales Invoice", "Payment Entry")

# Roles ---------------------------------------------------------------------------------------------------
# Connecting a realm, running syncs and resolving conflicts changes the official books: managers only.
MANAGER_ROLES = ("Accounts Manager", "System Manager")
# Reading the audit trail and the review queue.
READER_ROLES = ("Accounts User", "Accounts Manager", "System Manager")
# Rebinding a realm to another QBO company (reset) and the audit retention outlive any one set of books:
# only the site's administrators decide them.
ADMIN_ROLE = "System Manager"

# Connection status (QBO Realm.connection_status) ---------------------------------------------------------
NOT_CONNECTED = "Not Connected"
CONNECTED = "Connected"
NEEDS_RECONNECT = "Needs Reconnect"
DISCONNECTED = "Disconnected"

# Initial import status (QBO Realm.initial_import_status)
IMPORT_NOT_STARTED, IMPORT_QUEUED, IMPORT_RUNNING, IMPORT_DONE, IMPORT_FAILED = (
	"Not Started",
	"Queued",
	"Running",
	"Completed",
	"Failed",
)

# Policies: labels shown in the form <-> engine values (nexora_qbo.sync.constants)
CONFLICT_POLICY_LABELS = {"QBO wins": "qbo_wins", "Hold for review": "review"}
VOID_POLICY_LABELS = {"Follow": "follow", "Review": "review"}
QBO_BORN_CANCEL_POLICY_LABELS = {"Ask": "ask", "Follow": "follow"}
# QBO Realm "Exchange Rate Source" labels <-> engine values (sync/constants.RATE_SOURCE_*)
RATE_SOURCE_LABELS = {
	"ERPNext Currency Exchange (sent to QuickBooks)": "erpnext",
	"QuickBooks rate of the day (brought into ERPNext)": "qbo",
}

# Conflict status labels <-> engine values; conflict actions (buttons) <-> engine actions
CONFLICT_STATUS_LABELS = {"Open": "open", "Resolved": "resolved", "Auto-resolved": "auto_resolved"}
# the engine's button words (sync/constants.ACTION_LABELS): review item reasons name these same labels
CONFLICT_ACTION_LABELS = ACTION_LABELS

# Sync Log direction labels <-> engine values
DIRECTION_LABELS = {"Outbound": "outbound", "Inbound": "inbound"}

# Reference maps on the realm (child table rows): the row's type IS the local DocType -> RealmSettings map.
REFERENCE_MAPS = {
	"Account": "account_map",
	"Payment Terms Template": "terms_map",
	"Sales Taxes and Charges Template": "tax_code_map",
	"Cost Center": "class_map",  # QBO Class
	"Branch": "location_map",  # QBO Department ("Location")
	"Mode of Payment": "payment_method_map",
}

# Jobs ----------------------------------------------------------------------------------------------------
QUEUE = "long"  # pulls and pushes can outlive the 300 s default queue timeout
JOB_PREFIX = "qbo"


def job_id(kind: str, realm_id: str) -> str:
	"""One RQ job id per (kind, realm): deduplicated enqueues keep at most one queued run per realm."""
	return f"{JOB_PREFIX}-{kind}::{realm_id}"


# Locks (Redis, site-namespaced by locks.py) ---------------------------------------------------------------
REALM_LOCK_TTL = 120  # seconds; a heartbeat extends it while the holder runs, so a dead worker frees it fast
REALM_LOCK_HEARTBEAT = 30  # seconds between extensions
REALM_LOCK_WAIT = 300  # how long a sync job waits for the realm (the other holder is doing the same work)
TOKEN_LOCK_TTL = 60  # a token refresh is one HTTP call with a 60 s read timeout
TOKEN_LOCK_WAIT = 90

# Pacer (Redis sliding-window log; limits come from nexora_qbo.qbo.pacer.DEFAULT_LIMITS)
PACER_SECOND_WINDOW = 1.0
PACER_MINUTE_WINDOW = 60.0
PACER_MAX_SLEEP = 1.0  # re-check at least once a second while waiting (other workers may finish early)

# OAuth ---------------------------------------------------------------------------------------------------
CALLBACK_METHOD = "nexora_qbo.erpnext.oauth.callback"
WEBHOOK_METHOD = "nexora_qbo.erpnext.webhook.receive"
OAUTH_STATE_TTL_MINUTES = 15
# Pending authorizations live in the cache only (never in a readable field), keyed by a hash of the state.
OAUTH_STATE_CACHE_PREFIX = "nexora_qbo:oauth_state:"
# A realm whose environment, base URL or client id changes loses its tokens (they would be sent to the new
# host); the old refresh token is kept encrypted in this hidden field until the revoke job has used it.
REALM_BINDING_FIELDS = ("environment", "custom_base_url", "client_id")
PENDING_REVOKE_FIELD = "pending_revoke"
# Set only by the OAuth flow, the jobs and the reset (never through a form or REST): which QBO company the
# realm is bound to and whether it is connected.
REALM_FLOW_FIELDS = ("realm_id", "connection_status", "connected_by", "connected_on")
# site_config key: only a site that sets it may use the "custom" environment (the local sandbox).
ALLOW_CUSTOM_BASE_URL_CONF = "nexora_qbo_allow_custom_base_url"
REFRESH_HARD_EXPIRY_WARNING_DAYS = 30

# Retention -----------------------------------------------------------------------------------------------
DEFAULT_LOG_RETENTION_DAYS = 2555  # ~7 years: the audit trail of the official books is kept like the books
MIN_LOG_RETENTION_DAYS = 3 * 365  # the floor nobody can go below (and only a System Manager may move it)

# Custom fields on the synced ERPNext documents (display only; the authoritative ids live in QBO Entity Map)
CF_SECTION = "nexora_qbo_section"
CF_QBO_ID = "nexora_qbo_id"
CF_SYNC_STATUS = "nexora_qbo_sync_status"
# "In Review": an open review item on the document (QuickBooks may hold another version); wins over "Synced".
# "Needs Review" is the older word for the same thing (rows stamped before it), kept so they still load.
IN_REVIEW = "In Review"
SYNCED = "Synced"
SYNC_STATUS_OPTIONS = (
	"",
	"Queued",
	SYNCED,
	"Failed",
	IN_REVIEW,
	"Needs Review",
	"Voided in QBO",
	"Deleted in QBO",
)

# Flags (frappe-notes A7): per document and per job echo suppression
DOC_ORIGIN_FLAG = "nexora_qbo_origin"
INBOUND_FLAG = "nexora_qbo_inbound"
# Set (in-process only, never from a request) while the engine writes its bookkeeping DocTypes (guards.py)
ENGINE_WRITE_FLAG = "nexora_qbo_engine_write"
# The sync's own state: read-only in the desk, changed only through the engine's actions.
BOOKKEEPING_DOCTYPES = (ENTITY_MAP, OUTBOX, CURSOR, CONFLICT)

# Webhooks --------------------------------------------------------------------------------------------------
WEBHOOK_MAX_BODY_BYTES = (
	256 * 1024
)  # a real delivery is a few KB; Intuit batches at most a few hundred events
WEBHOOK_MAX_EVENT_AGE_HOURS = (
	24  # older events are refused (a replay); the CDC pull finds real changes anyway
)
WEBHOOK_DEDUPE_TTL_SECONDS = 48 * 3600  # an event id seen within this window is a redelivery
WEBHOOK_DEDUPE_PREFIX = "nexora_qbo:webhook_event:"


# QBO Realm fields holding ERPNext defaults the ledger uses when QBO does not say (accounts, groups, UOM…);
# carried to the engine in RealmSettings.extra and back.
REALM_ERPNEXT_DEFAULTS = (
	"receivable_account",
	"income_account",
	"tax_account",
	"payment_account",
	"mode_of_payment",
	"cost_center",
	"customer_group",
	"territory",
	"item_group",
	"stock_uom",
	"selling_price_list",
)

# Documents imported from QBO (which has dates, not times) take the first hour of their day, one second
# apart in booking order (mappers/sales_invoice.qbo_posting_time): before any local document of that day.
QBO_POSTING_WINDOW_SECONDS = 3600
QBO_POSTING_WINDOW_END = "01:00:00"

# AR tie-out -----------------------------------------------------------------------------------------------
TIE_OUT_JOB = "nexora_qbo.erpnext.jobs.tie_out_realm"
# QBO web app links to a document, per realm environment (custom endpoints: no link)
QBO_APP_URL = {"production": "https://app.qbo.intuit.com/app", "sandbox": "https://app.sandbox.qbo.intuit.com/app"}
QBO_APP_PAGE = {"Invoice": "invoice", "CreditMemo": "creditmemo", "Payment": "recvpayment", "Customer": "customerdetail"}

# issue 11: custom fields of the staffing-billing mapping
CF_QBO_DOC_NUMBER = "qbo_doc_number"  # Sales Invoice: QBO's number (QBO-born, or QBO numbered it)
CF_PARENT_CUSTOMER = "qbo_parent_customer"  # Customer: the client a job site belongs to (QBO ParentRef)
CF_BILL_WITH_PARENT = "qbo_bill_with_parent"  # Customer: QBO BillWithParent
CF_TAX_EXEMPT = "qbo_tax_exempt"  # Customer: exempt from sales tax (QBO Taxable=false)
CF_EXEMPTION_REASON = "qbo_exemption_reason"  # Customer: QBO TaxExemptionReasonId

# The desk ---------------------------------------------------------------------------------------------------
# A document's state in QuickBooks (erpnext/doc_status.py), most urgent first; the form and list colours.
DOC_STATE_COLORS = {
	"in_review": "orange",
	"waiting": "red",
	"queued": "blue",
	"synced": "green",
	"voided": "gray",
	"deleted": "gray",
	"not_synced": "gray",
}
# Outbox states a person may have to wait for (or act on)
WAITING_OUTBOX_STATES = ("pending", "in_flight", "failed", "parked")
# Who is told about a new review item when the realm names nobody: this role's users
DEFAULT_REVIEWER_ROLE = "Accounts Manager"
NEW_REVIEW_ITEM_SUBJECT = "New QuickBooks review item for {realm}: {what}"
# Realm health words (workspace and realm form)
HEALTH_CONNECTED = "Connected"
HEALTH_NEEDS_RECONNECT = "Needs reconnect"
HEALTH_UNREACHABLE = "QuickBooks unreachable since {since}"
HEALTH_NOT_CONNECTED = "Not connected"
# Payment Entry reference when QuickBooks' payment has no reference number: its own transaction number
QBO_PAYMENT_REFERENCE = "QBO Payment {number}"
# The initial import's last progress message per realm (the realm form polls it when realtime is not there)
IMPORT_PROGRESS_CACHE_KEY = "nexora_qbo:import_progress:"
# QBO's set-up and lists (issue 11) -------------------------------------------------------------------------
# Preferences and reference lists are read at connect, on each import, on the realm's "Read QuickBooks
# settings" button, and by the scheduled pull at most once per this many hours (erpnext/qbo_setup.py).
REFERENCE_REFRESH_HOURS = 24
REFERENCES_REFRESHED_FIELD = "qbo_references_refreshed_on"
LOCATION_DIMENSION_DOCTYPE = "Branch"  # the ERPNext master a QBO Department (Location) maps to
# QBO Realm Reference map type -> (QBO reference list, local DocType filtered by company or not)
SUGGESTED_MAPS = {
	"Cost Center": ("Class", True),
	"Branch": ("Department", False),
	"Payment Terms Template": ("Term", False),
	"Sales Taxes and Charges Template": ("TaxCode", True),
	"Mode of Payment": ("PaymentMethod", False),
	"Account": ("Account", True),
}

# Timesheet invoice lines (issue 11): the kind of hours a line bills, said in its QBO description. Overtime
# and double time are their own items (or activity types); a word in the item's or activity's name says which.
# Checked in this order ("double time overtime" is double time); anything else is regular hours.
HOURS_KINDS = (
	("double time", ("double time", "doubletime", "double-time", " dt ")),
	("overtime", ("overtime", "over time", "over-time", " ot ")),
)
REGULAR_HOURS = "regular"
