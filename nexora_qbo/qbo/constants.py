"""Every QBO number and URL the client depends on, in one place.

Values come from ../shared/docs/qbo-api.md (sourced); change them here, never inline, so the
engine, the tests and the docs agree on a single reading of Intuit's limits.
"""

from __future__ import annotations

# Pinned explicitly: Intuit ignores < 75 since Aug 2025, and an explicit pin documents what we parse.
MINOR_VERSION = "75"

PRODUCTION_BASE_URL = "https://quickbooks.api.intuit.com"
SANDBOX_BASE_URL = "https://sandbox-quickbooks.api.intuit.com"
AUTHORIZE_URL = "https://appcenter.intuit.com/connect/oauth2"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REVOKE_URL = "https://developer.api.intuit.com/v2/oauth2/tokens/revoke"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"

# Paths a "custom" environment (the local sandbox) must serve under its base URL.
CUSTOM_AUTHORIZE_PATH = "/oauth2/authorize"
CUSTOM_TOKEN_PATH = "/oauth2/v1/tokens/bearer"
CUSTOM_REVOKE_PATH = "/oauth2/v1/tokens/revoke"
API_PATH_PREFIX = "/v3/company"

ENVIRONMENTS = ("production", "sandbox", "custom")

# (connect, read) seconds: QBO itself times requests out at 120 s; 60 s read keeps workers moving.
DEFAULT_TIMEOUT = (5, 60)

MAX_BATCH_ITEMS = 30
MAX_BATCH_REQUEST_ID_LENGTH = 36
MAX_BATCH_ID_LENGTH = 10
MAX_COMBINED_ID_LENGTH = 50  # QBO concatenates requestid + bId and rejects > 50 with 6000
MAX_REQUEST_ID_LENGTH = 50
MAX_QUERY_RESULTS = 1000
CDC_MAX_OBJECTS = 1000
CDC_MAX_LOOKBACK_DAYS = 30

# Name lists are never hard-deleted (delete = sparse Active=false) and hide inactive rows in queries.
NAME_LIST_ENTITIES = frozenset(
	{
		"Customer",
		"Vendor",
		"Employee",
		"Item",
		"Account",
		"Class",
		"Department",
		"Term",
		"PaymentMethod",
		"TaxCode",
		"TaxRate",
		"Budget",
	}
)
VOID_BY_OPERATION_VOID = frozenset({"Invoice"})
VOID_BY_UPDATE = frozenset({"Payment", "SalesReceipt", "BillPayment"})

# QBO's throttle limits (per realm) and the slightly lower pace we actually use.
QBO_PER_SECOND = 10
QBO_PER_MINUTE = 500
QBO_BATCH_PER_MINUTE = 40
PACE_PER_SECOND = 8
PACE_PER_MINUTE = 450
# 38 of QBO's 40 batch requests/min (95 %): the pacer is a sliding-window log, so no 60 s window of GRANTS
# ever holds more than 38; the 2 left over absorb arrival jitter (a batch granted late in one window can land
# early in the next server-side). 38 x 30 items = 1,140 creates/min, 95 % of the 1,200/min batch ceiling.
PACE_BATCH_PER_MINUTE = 38

# Intuit says "wait 60 seconds" after a 429 and does not document Retry-After.
THROTTLE_WAIT_SECONDS = 60.0

# Fault codes, as strings because QBO sends them as strings ("code":"5010").
CODE_THROTTLE = "3001"
CODE_AUTH_FAILED = "3200"
CODE_STALE_OBJECT = "5010"
CODE_DUPLICATE_NAME = "6240"
CODE_OBJECT_NOT_FOUND = "610"
CODE_UNSUPPORTED_OPERATION = "500"
QUERY_ERROR_CODES = frozenset({"4000", "4001"})
VALIDATION_ERROR_CODES = frozenset({"2020", "2030", "6000"})
SERVER_ERROR_STATUSES = frozenset({500, 502, 503, 504})
THROTTLE_MARKER = "ThrottleExceeded"

# Headers.
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
INTUIT_TID_HEADERS = ("intuit-tid", "intuit_tid")

REDACTED = "[REDACTED]"
# Keys whose values never reach an audit row (token bodies, form bodies, client credentials). Kept for
# callers that name secrets explicitly; the audit redaction itself is an allow-list (below).
SECRET_KEYS = frozenset(
	{
		"access_token",
		"refresh_token",
		"id_token",
		"client_secret",
		"code",
		"token",
		"authorization",
		"password",
	}
)

# What an audit row may store (exchange.redact_*): an allow-list, so a secret under a name nobody thought of
# (camelCase, another provider's spelling, a malformed body) is dropped rather than kept.
# - JSON: QBO's entity fields are PascalCase and pass unless their name looks like a credential
#   (SECRET_NAME_MARKERS; SyncToken is QBO's optimistic-lock counter, not a credential); other keys pass only
#   if listed here (QBO's own lower/camelCase keys and the token endpoint's non-secret fields).
# - Form bodies (token endpoint requests): only FORM_ALLOWED_KEYS keep their values.
JSON_ALLOWED_KEYS = frozenset(
	{
		"value",
		"name",
		"type",
		"time",
		"element",
		"status",
		"domain",
		"sparse",
		"bId",
		"operation",
		"startPosition",
		"maxResults",
		"totalCount",
		"error",
		"error_description",
		"token_type",
		"expires_in",
		"x_refresh_token_expires_in",
		"x_refresh_token_hard_expires_in",
		"realmId",
		"id",
		"lastUpdated",
		"deletedId",
		"entities",
		"eventNotifications",
		"dataChangeEvent",
		"message",
		"detail",
		"intuit_tid",
		"minorversion",
		"changedSince",
		"client_id",
		"grant_type",
		"redirect_uri",
		"scope",
	}
)
# "code" is a QBO error code in a Fault (short, e.g. "6240") but an authorization code in a token request
JSON_SHORT_CODE_KEY, JSON_SHORT_CODE_MAX = "code", 12
PASCAL_ALLOWED_TOKENISH = frozenset({"SyncToken"})
SECRET_NAME_MARKERS = (
	"token",
	"secret",
	"password",
	"passwd",
	"authorization",
	"credential",
	"apikey",
	"cookie",
)
FORM_ALLOWED_KEYS = frozenset(
	{"grant_type", "redirect_uri", "scope", "client_id", "minorversion", "requestid"}
)
# query strings of the API URLs we call (CDC, query, void/batch operations, requestid)
URL_QUERY_ALLOWED_KEYS = FORM_ALLOWED_KEYS | {"query", "entities", "changedSince", "operation", "include"}

# Webhook CloudEvents type suffix -> legacy operation name.
CLOUDEVENT_OPERATIONS = {
	"created": "Create",
	"updated": "Update",
	"deleted": "Delete",
	"merged": "Merge",
	"voided": "Void",
	"emailed": "Emailed",
}
WEBHOOK_SIGNATURE_HEADER = "intuit-signature"

# QBO spelling of entity names, so a lower-case CloudEvents type maps back ("creditmemo" -> "CreditMemo").
KNOWN_ENTITIES = (
	"Account",
	"Attachable",
	"Bill",
	"BillPayment",
	"Budget",
	"Class",
	"CompanyCurrency",
	"CompanyInfo",
	"CreditMemo",
	"Currency",
	"Customer",
	"CustomerType",
	"Department",
	"Deposit",
	"Employee",
	"Estimate",
	"ExchangeRate",
	"Invoice",
	"Item",
	"JournalCode",
	"JournalEntry",
	"Payment",
	"PaymentMethod",
	"Preferences",
	"Purchase",
	"PurchaseOrder",
	"RefundReceipt",
	"SalesReceipt",
	"TaxAgency",
	"TaxCode",
	"TaxRate",
	"Term",
	"TimeActivity",
	"Transfer",
	"Vendor",
	"VendorCredit",
)
ENTITY_BY_LOWER = {name.lower(): name for name in KNOWN_ENTITIES}
