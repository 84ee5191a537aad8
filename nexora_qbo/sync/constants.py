"""Constants of the sync engine (one place, so the Frappe layer and the reports use the same words)."""
from __future__ import annotations

from datetime import timedelta

# local types (engine names, not DocTypes) and their QBO entity
CUSTOMER = "customer"
ITEM = "item"
INVOICE = "invoice"
CREDIT_MEMO = "credit_memo"
PAYMENT = "payment"
DEPOSIT = "deposit"  # a bank deposit of received payments (issue 13, sync/entities/deposit.py)
# a credit note's balance paid back to the customer: ERPNext Payment Entry "Pay" to a Customer against a return
# Sales Invoice ⇄ QBO JournalEntry (A/R debit for the customer, bank credit) linked to the CreditMemo by a zero
# Payment (sync/entities/refund.py)
REFUND = "refund"
# a sale taken back and paid out at once: QBO RefundReceipt ⇄ ERPNext return Sales Invoice (its lines) paid out
# by a Payment Entry "Pay" (sync/entities/refund_receipt.py)
REFUND_RECEIPT = "refund_receipt"
LOCAL_TYPES = (CUSTOMER, ITEM, INVOICE, CREDIT_MEMO, PAYMENT, DEPOSIT, REFUND, REFUND_RECEIPT)

QBO_ENTITY = {
	CUSTOMER: "Customer",
	ITEM: "Item",
	INVOICE: "Invoice",
	CREDIT_MEMO: "CreditMemo",
	PAYMENT: "Payment",
	DEPOSIT: "Deposit",
	REFUND: "JournalEntry",
	REFUND_RECEIPT: "RefundReceipt",
}
LOCAL_TYPE = {v: k for k, v in QBO_ENTITY.items()}

# outbox
ACTIONS = ("create", "update", "cancel", "delete")
PENDING, IN_FLIGHT, DONE, FAILED, PARKED = "pending", "in_flight", "done", "failed", "parked"
OUTBOX_STATES = (PENDING, IN_FLIGHT, DONE, FAILED, PARKED)
OPEN_STATES = (PENDING, IN_FLIGHT, FAILED)  # still to be worked on by the engine
RETRY_BACKOFF_BASE = timedelta(seconds=30)
RETRY_BACKOFF_MAX = timedelta(hours=1)
STALE_RETRIES = 2  # 5010 → re-read → merge → retry, at most this many times per attempt
BATCH_SIZE = 30  # items per QBO batch request (qbo-api.md §4: recommended maximum, >30 fails)
BATCH_REQUEST_ID_MAX = 36  # a batch requestid; each bId ≤ 10 (§4)
REQUEST_ID_PREFIX = "nx"  # requestid = nx-<local_type initial>-<hash>-g<generation> (≤ 50 chars)

# mapping status
ACTIVE, VOIDED, DELETED, INACTIVE = "active", "voided", "deleted", "inactive"

# policies
QBO_WINS, REVIEW, FOLLOW = "qbo_wins", "review", "follow"

# conflicts
OPEN, RESOLVED, AUTO_RESOLVED = "open", "resolved", "auto_resolved"
CONFLICT_KINDS = (
	"field_conflict",  # master data field changed on both sides
	"transaction_edited",  # bookkeeper edited amounts/lines of a synced transaction in QBO
	"remote_void",  # synced document voided in QBO
	"remote_delete",  # synced document deleted (or customer/item made inactive) in QBO
	"rejected",  # QBO refused the write permanently (validation, inactive reference, duplicate name)
	"missing_reference",  # a referenced record could not be resolved
	"amend_local",  # QBO's version of a transaction was kept; the submitted local document still differs
	"totals_differ",  # QBO's total for a pushed document differs from the local total (rounding, tax)
	"books_differ",  # after a review action the two books still differ for the document (post-action check)
	"qbo_born_cancel",  # an ERPNext cancel of a document that originated in QBO: void it there too? (a person says)
	"unexplained_difference",  # the AR tie-out found a balance difference the app knows no cause for
	"tax_differs",  # QBO's automated sales tax differs from ERPNext's tax (issue 11, sync/taxes.py)
	"inactive_with_open_ar",  # QBO made a customer inactive while ERPNext still shows it open AR (sync/customers.py)
	"rate_differs",  # QBO is the rate source; an ERPNext document went out at its own, other rate (exchange_rates.py)
)
ACTION_RETRY, ACTION_KEEP_QBO, ACTION_KEEP_LOCAL, ACTION_ACCEPT_QBO, ACTION_DISMISS = (
	"retry",
	"keep_qbo",
	"keep_local",
	"accept_qbo",
	"dismiss",
)

# actions added for "no review action may damage either book" (invariant 10)
ACTION_VOID_IN_QBO = "void_in_qbo"  # void (or delete) the QBO record of a cancelled ERPNext document, on purpose
ACTION_ACCEPT_DIFFERENCE = "accept_difference"  # a person knowingly accepts a remaining difference
# Button labels: the ONLY words for actions that bookkeeper-facing text may use (reasons name the next step
# with these, never with the engine's action names). The Frappe layer shows the same labels.
ACTION_LABELS = {
	ACTION_RETRY: "Retry",
	ACTION_KEEP_QBO: "Keep QuickBooks",
	ACTION_KEEP_LOCAL: "Keep ERPNext",
	ACTION_ACCEPT_QBO: "Accept QuickBooks' change",
	ACTION_DISMISS: "Dismiss",
	ACTION_VOID_IN_QBO: "Void in QuickBooks too",
	ACTION_ACCEPT_DIFFERENCE: "Accept the difference",
}
# What each button does to each book, said BEFORE it is pressed (the review item form shows these next to the
# buttons and in the confirmation): (what happens in ERPNext, what happens in QuickBooks).
ACTION_EFFECTS = {
	ACTION_RETRY: (
		"Nothing changes here.",
		"The waiting change is sent to QuickBooks again, as it is now.",
	),
	ACTION_KEEP_QBO: (
		"ERPNext takes QuickBooks' version (a cancelled document comes back as a new one made from it).",
		"Nothing changes in QuickBooks.",
	),
	ACTION_KEEP_LOCAL: (
		"Nothing changes here.",
		"QuickBooks is updated with ERPNext's version (or the cancellation is sent again).",
	),
	ACTION_ACCEPT_QBO: (
		"ERPNext follows QuickBooks: its edit, void or deletion is applied here.",
		"Nothing changes in QuickBooks.",
	),
	ACTION_DISMISS: (
		"Nothing changes here; the item is closed.",
		"Nothing changes in QuickBooks. Any difference stays and shows up in the next tie-out.",
	),
	ACTION_VOID_IN_QBO: (
		"Nothing changes here (the document stays cancelled).",
		"The QuickBooks document is voided too.",
	),
	ACTION_ACCEPT_DIFFERENCE: (
		"Nothing changes here.",
		"Nothing changes in QuickBooks; the difference is recorded as accepted by you.",
	),
}
# Where a button does something else for one kind of review item, what it does there (same form as above).
# "Keep QuickBooks" on an invoice edited in QuickBooks never rewrites the submitted ERPNext document
# (sync/review.py _amend_local_item): a follow-up item asks for the amendment instead.
ACTION_EFFECTS_BY_KIND = {
	"transaction_edited": {
		ACTION_KEEP_QBO: (
			"The submitted document is not rewritten: if it still differs from QuickBooks, a new review item asks "
			"you to cancel and amend it to match.",
			"Nothing changes in QuickBooks.",
		),
		ACTION_KEEP_LOCAL: (
			"Nothing changes here.",
			"QuickBooks' edit is replaced by ERPNext's version.",
		),
	},
}
# The kinds of review item in a bookkeeper's words (the desk shows these, never the kind's engine name).
CONFLICT_KIND_WORDS = {
	"field_conflict": "Changed on both sides",
	"transaction_edited": "Edited in QuickBooks",
	"remote_void": "Voided in QuickBooks",
	"remote_delete": "Deleted or made inactive in QuickBooks",
	"rejected": "QuickBooks refused it",
	"missing_reference": "Something it refers to is missing",
	"amend_local": "ERPNext still differs from QuickBooks' version",
	"totals_differ": "Totals differ",
	"books_differ": "The books still differ",
	"qbo_born_cancel": "Cancelled here, came from QuickBooks",
	"unexplained_difference": "Unexplained balance difference",
	"rate_differs": "Sent at ERPNext's exchange rate, not QuickBooks' rate of the day",
}
# Resolutions written by the engine itself (Conflict.resolution), besides the action names above.
# "accepted_difference": a person accepted a known difference between the books (status "resolved"). The
# AR tie-out (sync/tieout.py) reads resolved conflicts with this resolution as the explanation of a
# difference a person chose to keep, so it is neither "unexplained" nor hidden.
RESOLUTION_ACCEPTED_DIFFERENCE = "accepted_difference"
RESOLUTION_AGREED = "books_agree"  # the post-action check found both books in agreement again
RESOLUTION_AMENDED = "superseded_by_amendment"  # an ERPNext amendment updated the same QBO record
# how a review item was settled, in a bookkeeper's words (month report, desk); keys are Conflict.resolution
RESOLUTION_WORDS = {
	ACTION_RETRY: "sent again",
	ACTION_KEEP_QBO: "QuickBooks' version kept",
	ACTION_KEEP_LOCAL: "ERPNext's version sent to QuickBooks",
	ACTION_ACCEPT_QBO: "QuickBooks' change accepted here",
	ACTION_DISMISS: "dismissed",
	RESOLUTION_AMENDED: "settled by an amendment in ERPNext that updated the same QuickBooks document",
	RESOLUTION_ACCEPTED_DIFFERENCE: "difference accepted",
	ACTION_VOID_IN_QBO: "voided in QuickBooks too",
}

# where a synced document originated (ports.Mapping.origin); None = unknown (older rows) = treated as local
ORIGIN_LOCAL, ORIGIN_QBO = "local", "qbo"
# RealmSettings.qbo_born_cancel_policy: what an ERPNext cancel of a QBO-born transaction does in QBO
ASK = "ask"  # default: a review item asks the person ("Void in QuickBooks too" or keep it); FOLLOW voids

# pull
CDC_OVERLAP = timedelta(seconds=5)
CDC_MAX_LOOKBACK = timedelta(days=30)
CDC_SAFETY_MARGIN = timedelta(minutes=5)  # fall back to queries a bit before QBO's hard 30-day limit
PULL_ENTITIES = ("Customer", "Item", "Invoice", "CreditMemo", "Payment", "Deposit", "RefundReceipt")

# directions
OUTBOUND, INBOUND = "outbound", "inbound"

# dependency ranks (lower first)
# deposits after the payments they hold, a refund after the credit it pays out
RANK = {CUSTOMER: 10, ITEM: 10, INVOICE: 20, CREDIT_MEMO: 30, PAYMENT: 30, DEPOSIT: 40, REFUND: 40, REFUND_RECEIPT: 30}

# AR tie-out (sync/tieout.py) ---------------------------------------------------------------------------
UNEXPLAINED_DIFFERENCE = "unexplained_difference"
# the cause of a balance difference, in priority order (the first that applies names it)
CAUSE_REVIEW_ITEM = "review_item"  # an open review item on the document
CAUSE_WAITING = "waiting"  # an outbox entry of the document is still waiting (pending/in flight/failed/parked)
CAUSE_BEFORE_GO_LIVE = "before_go_live"  # dated before the realm's sync start date: never synced
CAUSE_NOT_MAPPED = "not_mapped"  # never reached QBO / never imported
CAUSE_REVALUATION = "revaluation"  # same balance in the document currency, home amounts differ
CAUSE_RELATED_REVIEW_ITEM = "related_review_item"  # an open review item on another document of the customer
CAUSE_RELATED_WAITING = "related_waiting"  # another document of the customer is still waiting to be sent
CAUSE_DOCUMENTS = "documents"  # a customer difference that its documents' differences add up to
CAUSE_ACCEPTED = "accepted"  # a person pressed "Accept the difference" on this very difference (same amounts)
CAUSE_UNEXPLAINED = "unexplained"
# each cause in a bookkeeper's words (the report's AR tie-out view shows these, never the keys above)
CAUSE_WORDS = {
	CAUSE_REVIEW_ITEM: "Open review item",
	CAUSE_WAITING: "Change still waiting to be sent",
	CAUSE_BEFORE_GO_LIVE: "Dated before the go-live",
	CAUSE_NOT_MAPPED: "Only in one of the books",
	CAUSE_REVALUATION: "Exchange-rate revaluation",
	CAUSE_RELATED_REVIEW_ITEM: "Review item on another of its documents",
	CAUSE_RELATED_WAITING: "Another of its documents is waiting to be sent",
	CAUSE_DOCUMENTS: "Sum of its documents' differences",
	CAUSE_ACCEPTED: "Difference accepted by a person",
	CAUSE_UNEXPLAINED: "Unexplained",
}
TIE_OUT_CAUSES = (
	CAUSE_REVIEW_ITEM,
	CAUSE_WAITING,
	CAUSE_BEFORE_GO_LIVE,
	CAUSE_NOT_MAPPED,
	CAUSE_REVALUATION,
	CAUSE_RELATED_REVIEW_ITEM,
	CAUSE_RELATED_WAITING,
	CAUSE_DOCUMENTS,
	CAUSE_ACCEPTED,
	CAUSE_UNEXPLAINED,
)
WAITING_STATES = (PENDING, IN_FLIGHT, FAILED, PARKED)
# QBO query filters of the tie-out. Invoice and CreditMemo Balance are filterable; Payment.UnappliedAmt is
# not in the filterable list integrators report (Id, TxnDate, TotalAmt, CustomerRef, ...), so payments are
# read page by page and filtered here.
TIE_OUT_OPEN_WHERE = {"Invoice": "Balance > '0'", "CreditMemo": "Balance > '0'"}
TIE_OUT_ID_CHUNK = 100  # `Id IN (...)` chunk for documents open on the ERPNext side only

# QBO's DocNumber holds at most 21 characters (qbo-api.md §9 Invoice: "DocNumber ... (≤ 21 chars in QBO)")
QBO_DOC_NUMBER_MAX = 21
# review item kinds of issue 11
KIND_TAX_DIFFERS = "tax_differs"
KIND_LINE_EDITED = "transaction_edited"
# QBO keeps a company's books on Pacific time (qbo-api.md §2): "today" in QBO is the Pacific date
QBO_TIMEZONE = "America/Los_Angeles"
# the response body kept in the audit row of a CDC poll that found no change (sync/audit.py)
CDC_EMPTY_NOTE = "no changes"


# What the go-live is doing, in a person's words, per plan action (the desk's progress bar shows it).
GO_LIVE_PROGRESS_STEP = {
	"link": "Linking",
	"import": "Importing",
	"opening": "Opening balance of",
	"create": "Sending",
}
# A go-live plan row's action as a bookkeeper reads it (the QBO Go-Live Plan form's Action column shows and
# stores these words; the engine's plan keeps the keys). One row's choices: its planned action, or Exclude;
# a QuickBooks customer/item may also be linked to another ERPNext record or imported instead.
GO_LIVE_ACTION_LABELS = {
	"link": "Link to the ERPNext record",
	"import": "Create in ERPNext",
	"create": "Create in QuickBooks",
	"opening": "Opening balance",
	"exclude": "Exclude",
}
# What a finished go-live did, per outcome of its rows and of the first push (golive.apply_go_live's counts), in
# the order the plan form's Result says it; outcomes that did not happen are left out.
GO_LIVE_RESULT_WORDS = {
	"linked": "linked to ERPNext records",
	"already_linked": "already linked",
	"imported": "created in ERPNext",
	"opening": "opening balances booked",
	"closed_since_preview": "paid in QuickBooks since the preview (nothing left to open)",
	"queued": "queued for QuickBooks",
	"excluded": "excluded",
	"push_done": "sent to QuickBooks",
	"push_failed": "not accepted by QuickBooks yet (retried; see Still failing)",
	"push_parked": "waiting for review before being sent",
}
# a plan's rows grouped in words (the plain-text plan the bench command and the demo print)
GO_LIVE_ACTION_GROUPS = {
	"link": "Linked",
	"import": "Imported into ERPNext",
	"create": "Created in QuickBooks",
	"opening": "Opening balances",
	"exclude": "Excluded",
}


# An HTTP exchange's outcome (the client's error class) in a bookkeeper's words: the month report, the demo and
# the desk's reconciliation report say these, never the class name. Routine ones are part of normal operation.
EXCHANGE_OUTCOME_WORDS = {
	"AuthenticationError": "access token renewed (it lasts an hour)",
	"ThrottleError": "asked by QuickBooks to slow down (waited, resent, nothing duplicated)",
	"ServerError": "QuickBooks had a passing server error (sent again later)",
	"ConnectionFailed": "QuickBooks could not be reached (sent again later)",
	"StaleObjectError": "the record had changed in QuickBooks since our last read (read again and merged)",
	"ValidationError": "QuickBooks refused the data (see the review queue)",
	"QueryError": "QuickBooks refused a query",
	"DuplicateNameError": "the name is already used in QuickBooks (see the review queue)",
	"ObjectNotFoundError": "the record is not (or no longer) in QuickBooks",
	"AuthorizationError": "QuickBooks did not allow the change (permissions or subscription)",
	"UnsupportedOperationError": "QuickBooks does not support that operation",
	"OAuthError": "the connection to QuickBooks needs attention (Reconnect)",
	"InvalidGrantError": "QuickBooks no longer accepts the stored connection (Reconnect)",
}
ROUTINE_OUTCOMES = frozenset({"AuthenticationError", "ThrottleError"})

# Foreign currency (sync/exchange_rates.py) ---------------------------------------------------------------
# RealmSettings.rate_source: where the day's exchange rate of the realm comes from, one source for both books.
# "erpnext": ERPNext's Currency Exchange is the rate; each pushed document carries it as ExchangeRate and the
#   rows are written to QuickBooks' rate table (POST /exchangerate), so documents made in QuickBooks default to it.
# "qbo": QuickBooks' rate of the day is the rate; it is brought into ERPNext as Currency Exchange rows (before
#   a document of that day is made there), and each QBO-born document's own rate is written for its date.
RATE_SOURCE_ERPNEXT, RATE_SOURCE_QBO = "erpnext", "qbo"
RATE_SOURCE_LABELS = {
	RATE_SOURCE_ERPNEXT: "ERPNext's Currency Exchange (sent to QuickBooks)",
	RATE_SOURCE_QBO: "QuickBooks' rate of the day (brought into ERPNext)",
}
# how far back rates are exchanged on each pull (days before today); later dates are always included
RATE_LOOKBACK_DAYS = 45
RATE_SEEN_PREFIX = "ExchangeRate:"  # Cursor.seen keys of rates already written to QuickBooks ("EUR:2026-11-02")
# tie-out: same document amount and same rate in both books, home amounts apart only by each book's rounding
# (ERPNext adds each line's rounded home amount and relieves each payment at the invoice's rate, QuickBooks
# rounds Balance x ExchangeRate once); shown with its cause and amounts, never silently equal
CAUSE_HOME_ROUNDING = "home_rounding"
# QuickBooks is the rate source, and an ERPNext-born foreign document was booked at another rate than QuickBooks'
# for its day: it is sent at ERPNext's rate (both books then carry the same rate, so they agree) and this
# informational review item names both rates (sync/exchange_rates.ExchangeRates.check_sent_rate)
KIND_RATE_DIFFERS = "rate_differs"
CAUSE_WORDS[CAUSE_HOME_ROUNDING] = "Rounding of the home-currency amount"
TIE_OUT_CAUSES = (*TIE_OUT_CAUSES, CAUSE_HOME_ROUNDING)

# Canonical record fields in a bookkeeper's words (a review item lists what QuickBooks changed; "tax_total"
# is an engine word). A field without an entry is shown with its underscores as spaces.
FIELD_WORDS = {
	"lines": "lines",
	"total": "total",
	"tax_total": "tax",
	"discount_amount": "discount",
	"txn_date": "date",
	"due_date": "due date",
	"doc_number": "number",
	"customer": "customer",
	"currency": "currency",
	"exchange_rate": "exchange rate",
	"class_": "class",
	"location": "location",
	"memo": "memo",
	"terms": "terms",
	"applications": "invoices paid",
	"unapplied": "unapplied amount",
	"reference": "reference",
	"deposit_account": "deposit account",
	"payment_method": "payment method",
	"bank_account": "bank account",
	"payments": "payments deposited",
	"fees": "fees",
	"paid_from": "paid from",
}


def field_words(fields) -> str:
	"""'lines, tax, total' for the fields a change touched (sorted, each once)."""
	return ", ".join(sorted({FIELD_WORDS.get(f, str(f).rstrip("_").replace("_", " ")) for f in fields}))
