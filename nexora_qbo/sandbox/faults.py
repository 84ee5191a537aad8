"""QBO fault envelopes, raised as `SandboxFault` anywhere in the model and rendered by the WSGI layer.

Shapes follow the fixtures: ValidationFault bodies from Boulevard-ExQuickBooks/*_error.json and
minimul-qbo_api/error/*.yml; the 401 legacy lower-case envelope from minimul-qbo_api/error/401.yml; the
throttle
fault from ruckus-quickbooks-ruby/too_many_requests_error.xml (§0, §5, §7 of qbo-api.md).
"""

from __future__ import annotations

from . import constants as C


class SandboxFault(Exception):
	"""A QBO fault: `errors` is the Error list, `fault_type` the Fault.type, `status` the HTTP status."""

	def __init__(self, status: int, fault_type: str, errors: list[dict]):
		super().__init__(errors[0].get("Message") if errors else fault_type)
		self.status = status
		self.fault_type = fault_type
		self.errors = errors

	def fault_body(self) -> dict:
		return {"Error": self.errors, "type": self.fault_type}

	@property
	def code(self) -> str:
		return self.errors[0].get("code", "") if self.errors else ""


def _error(message: str, detail: str, code: str, element: str | None = "") -> dict:
	err = {"Message": message, "Detail": detail, "code": code}
	if element is not None:
		err["element"] = element
	return err


def validation(
	code: str, message: str, detail: str, element: str | None = "", status: int = 400
) -> SandboxFault:
	return SandboxFault(status, "ValidationFault", [_error(message, detail, code, element)])


def required(element: str) -> SandboxFault:
	"""2020, fx:Boulevard-ExQuickBooks/create_item_error.json."""
	return validation("2020", C.MSG_REQUIRED, C.DETAIL_REQUIRED.format(element=element), element)


def stale(user: str = C.LAST_EDITOR) -> SandboxFault:
	"""5010, fx:Boulevard-ExQuickBooks/update_item_error.json (HTTP 400, §1)."""
	return validation("5010", C.MSG_STALE, C.DETAIL_STALE.format(user=user), "")


def not_found() -> SandboxFault:
	"""610, fx:Boulevard-ExQuickBooks/read_item_error.json; also used for reads of deleted/missing ids."""
	return validation("610", C.MSG_NOT_FOUND, C.DETAIL_NOT_FOUND, "")


def duplicate_name(detail: str = "null") -> SandboxFault:
	"""6240, fx:minimul-qbo_api/error/validation.yml (no `element` key there)."""
	return validation("6240", C.MSG_DUPLICATE, C.DETAIL_DUPLICATE.format(detail=detail), None)


def business(detail: str, element: str = "") -> SandboxFault:
	"""6000 generic business validation (the batch requestid error in §4 uses it)."""
	return validation("6000", C.MSG_BUSINESS, f"Business Validation Error: {detail}", element)


def amount_mismatch(amount) -> SandboxFault:
	"""6070 for an item line whose Amount differs from Qty × UnitPrice (§9 Invoice, reported by two
	integrators; no capture exists, so Message/Detail follow their quoted text)."""
	return validation(
		C.CODE_AMOUNT_MISMATCH,
		C.MSG_AMOUNT_MISMATCH,
		C.DETAIL_AMOUNT_MISMATCH.format(amount=amount),
		"Line.Amount",
	)


def query_parse(detail: str) -> SandboxFault:
	"""4000, fx:Boulevard-ExQuickBooks/query_error.json (no `element`)."""
	return validation("4000", C.MSG_QUERY_PARSE, f"QueryParserError: {detail}", None)


def query_invalid(detail: str) -> SandboxFault:
	"""4001 (ruckus query_validation_error.xml): `QueryValidationError: value 0 is too small...`."""
	return validation("4001", C.MSG_QUERY_INVALID, f"QueryValidationError: {detail}", None)


def unsupported(path: str) -> SandboxFault:
	"""Code 500 'Unsupported Operation' for an unknown path, fx:minimul-qbo_api/error/500.yml (HTTP 400)."""
	return validation(
		"500",
		C.MSG_UNSUPPORTED,
		f"Operation Could not find resource for relative : {path} is not supported.",
		None,
	)


def unsupported_operation(detail: str) -> SandboxFault:
	return validation("500", C.MSG_UNSUPPORTED, detail, None)


def invalid_id(value: str) -> SandboxFault:
	"""2030, fx:minimul-qbo_api/error/500.yml second interaction."""
	return validation("2030", C.MSG_INVALID_ID, f"Id should be a valid number. Supplied value:{value}", "Id")


def throttle_body(status: int = 429) -> dict:
	return {
		"Error": [
			{
				"Message": C.MSG_THROTTLE.format(status=status),
				"Detail": C.DETAIL_THROTTLE,
				"code": "3001",
			}
		],
		"type": "SERVICE",
	}


def throttle_xml(time_text: str, status: int = 429) -> str:
	"""Verbatim structure of ruckus too_many_requests_error.xml (429) / throttle_exceeded_error.xml (403)."""
	head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' if status == 429 else ""
	return (
		f'{head}<IntuitResponse time="{time_text}" xmlns="http://schema.intuit.com/finance/v3">\n'
		'  <Fault type="SERVICE">\n'
		'    <Error code="3001">\n'
		f"      <Message>{C.MSG_THROTTLE.format(status=status)}</Message>\n"
		f"      <Detail>{C.DETAIL_THROTTLE}</Detail>\n"
		"    </Error>\n"
		"  </Fault>\n"
		"</IntuitResponse>\n"
	)


def system_fault(status: int = 500) -> SandboxFault:
	return SandboxFault(
		status,
		"SystemFault",
		[
			_error(
				C.MSG_SYSTEM,
				"System Failure Error: An unexpected error occurred while accessing or saving your data. "
				"Please wait a few minutes and try again. If the problem persists, contact customer support.",
				"10000",
				None,
			)
		],
	)


def auth_401_body(detail: str, epoch_ms: int) -> dict:
	"""The legacy lower-case envelope, key for key as fx:minimul-qbo_api/error/401.yml."""
	return {
		"warnings": None,
		"intuitObject": None,
		"fault": {
			"error": [{"message": C.MSG_AUTH_FAILED, "detail": detail, "code": "3200", "element": None}],
			"type": "AUTHENTICATION",
		},
		"report": None,
		"queryResponse": None,
		"batchItemResponse": [],
		"attachableResponse": [],
		"syncErrorResponse": None,
		"requestId": None,
		"time": epoch_ms,
		"status": None,
		"cdcresponse": [],
	}


def authorization_fault(detail: str = "") -> SandboxFault:
	"""403 when a token is used on a realm it was not issued for (QBO's ApplicationAuthorizationFailed)."""
	return SandboxFault(
		403, "AuthorizationFault", [{"Message": C.MSG_AUTHZ_FAILED, "Detail": detail, "code": "3100"}]
	)
