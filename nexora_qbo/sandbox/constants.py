"""Every number and fixed string the sandbox answers with, in one place (contracts.md: constants per package).

Values are QBO's documented or recorded ones; the section of qbo-api.md (or the fixture) is named beside each.
"""

from __future__ import annotations

PACIFIC_TZ = "America/Los_Angeles"  # qbo-api.md §2: times carry the company/Pacific offset

# §7 OAuth
ACCESS_TOKEN_TTL = 3600
REFRESH_TOKEN_TTL = 8726400  # 101 days, fx:intuit-oauth-jsclient/authResponse.json
REFRESH_TOKEN_HARD_TTL = 5 * 365 * 24 * 3600  # "maximum validity of 5 years" (2025 policy)
REFRESH_GRACE_SECONDS = 24 * 3600  # "previous refresh tokens expire 24 hours after you receive a new one"
AUTH_CODE_TTL = 600
HARD_EXPIRES_HEADER = "x-include-refresh-token-hard-expires-in"

# §5 limits
DEFAULT_PER_SECOND = 10
DEFAULT_PER_MINUTE = 500
DEFAULT_BATCH_PER_MINUTE = 40
MAX_BATCH_ITEMS = 30  # §4
MAX_QUERY_RESULTS = 1000  # §3
DEFAULT_QUERY_RESULTS = 100
CDC_MAX_OBJECTS = 1000  # §2
CDC_MAX_LOOKBACK_DAYS = 30  # §2
MAX_REQUEST_ID = 50  # §6
MAX_BATCH_REQUEST_ID = 36  # §4
# §5: the throttle fault "often comes as XML even when JSON was requested" (python-quickbooks #43), so by
# default the sandbox alternates XML and JSON 429s, XML first: every client meets the XML shape in its tests.
THROTTLE_MIX = ("xml", "json")
DEFAULT_THROTTLE_FORMAT = "mix"
THROTTLE_FORMATS = ("mix", "json", "xml", "xml403", "random")
SANDBOX_EMAILS_PER_DAY = 40  # §5 "Sandbox adds 40 emails/day per realm"
PDF_PRODUCER = "(Nexora QBO sandbox)"

DOC_NUMBER_START = 1001
DEFAULT_CURRENCY_NAMES = {
	"USD": "United States Dollar",
	"EUR": "Euro",
	"GBP": "British Pound Sterling",
	"CAD": "Canadian Dollar",
	"MXN": "Mexican Peso",
	"AUD": "Australian Dollar",
	"BRL": "Brazilian Real",
}
# Home units per 1 foreign unit (§9 Multicurrency), used when no rate was set for a day. Keyed by
# (source, target) so a non-USD home currency still gets a plausible rate.
DEFAULT_RATES_TO_USD = {
	"USD": "1",
	"EUR": "1.08",
	"GBP": "1.27",
	"CAD": "0.73",
	"MXN": "0.058",
	"AUD": "0.66",
	"BRL": "0.20",
}

# Entity names exactly as QBO spells them, and the URL segment (lower case) for each.
NAME_LIST_ENTITIES = (
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
	"CompanyCurrency",
)
DISPLAY_NAME_ENTITIES = ("Customer", "Vendor", "Employee")  # §9 Customer: unique across these three
TRANSACTION_ENTITIES = ("Invoice", "Payment", "CreditMemo", "RefundReceipt", "JournalEntry")
DELETABLE = ("Invoice", "Payment", "CreditMemo", "RefundReceipt", "JournalEntry")  # §1 (only the transactions we model)
VOID_BY_OPERATION_VOID = ("Invoice",)  # §1
VOID_BY_UPDATE = ("Payment",)  # §1 (?operation=update&include=void)
READ_ONLY_ENTITIES = ("TaxCode", "TaxRate", "CompanyInfo")  # §9: TaxCode/TaxRate go through TaxService

DELETED_SUFFIX = " (deleted)"  # §1, fx:minimul-qbo_api/deactivate/account.yml

# Fault texts (verbatim from fixtures where one exists)
MSG_STALE = "Stale Object Error"
DETAIL_STALE = (
	"Stale Object Error : You and {user} were working on this at the same time. "
	"{user} finished before you did, "
	"so your work was not saved."
)
MSG_NOT_FOUND = "Object Not Found"
DETAIL_NOT_FOUND = (
	"Object Not Found : Something you're trying to use has been made inactive. "
	"Check the fields with accounts, "
	"customers, items, vendors or employees."
)
MSG_DUPLICATE = "Duplicate Name Exists Error"
DETAIL_DUPLICATE = "The name supplied already exists. : {detail}"
MSG_REQUIRED = "Required param missing, need to supply the required value for the API"
DETAIL_REQUIRED = "Required parameter {element} is missing in the request"
MSG_BUSINESS = "A business validation error has occurred while processing your request"
CODE_AMOUNT_MISMATCH = "6070"  # §9 Invoice: "Amount is not equal to UnitPrice * Qty" (reported)
MSG_AMOUNT_MISMATCH = "Amount is not equal to UnitPrice * Qty"
DETAIL_AMOUNT_MISMATCH = "Amount is not equal to UnitPrice * Qty. Supplied value:{amount}"
MSG_QUERY_PARSE = "Error parsing query"
MSG_QUERY_INVALID = "Invalid query"
MSG_UNSUPPORTED = "Unsupported Operation"
MSG_INVALID_ID = "Invalid ID"
MSG_THROTTLE = "message=ThrottleExceeded; errorCode=003001; statusCode={status}"
DETAIL_THROTTLE = "The request limit was reached.  Try again later"
MSG_AUTH_FAILED = "message=AuthenticationFailed; errorCode=003200; statusCode=401"
MSG_AUTHZ_FAILED = "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
WWW_AUTHENTICATE = 'Bearer realm="Intuit", error="invalid_token"'
MSG_SYSTEM = "An application error has occurred while processing your request"
LAST_EDITOR = "API API"  # §1: "The 'User Name' is the last editor; it can be 'API API'"

QBO_VERSION_HEADER = "1944.190"
