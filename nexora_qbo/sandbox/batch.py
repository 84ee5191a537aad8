"""`POST /batch` (qbo-api.md §4, fx:minimul-qbo_api/batch/basic.yml).

Items run serially and independently (not transactional); each failure becomes a per-item Fault under its
bId inside an HTTP 200. More than 30 items → the whole request is refused (400, ValidationFault 6000; the
exact production text is unknown, see §4's table). With a requestid, requestid ≤ 36 chars and
len(requestid)+len(bId) ≤ 50 for every item, otherwise every item fails with 6000 (gh:intuit/
QuickBooks-V3-Java-SDK#180).
"""

from __future__ import annotations

from . import constants as C
from . import faults as F
from . import query, service
from .entities import SPECS
from .faults import SandboxFault
from .model import Realm

ITEM_KEYS = {"bId", "operation", "optionsData"}


def _entity_of(item: dict) -> str | None:
	for key in item:
		if key not in ITEM_KEYS and key in SPECS:
			return key
	return None


def run_item(realm: Realm, item: dict, ctx: service.WriteContext) -> dict:
	if "Query" in item:
		return {"QueryResponse": query.run(realm, item["Query"], ctx.now)}
	entity = _entity_of(item)
	if entity is None:
		raise F.required("BatchItemRequest entity")
	body = item[entity]
	operation = (item.get("operation") or "").lower()
	options = (item.get("optionsData") or "").lower()
	if "void" in options.split(","):
		result = service.void(realm, entity, body, ctx, SPECS[entity].void_style or "void")
	elif operation == "create":
		result = service.create(realm, entity, body, ctx)
	elif operation == "update":
		result = service.update(realm, entity, body, ctx)
	elif operation == "delete":
		result = service.delete(realm, entity, body, ctx)
	else:
		raise F.unsupported_operation(f"Operation {item.get('operation')} is not supported in a batch.")
	return {entity: result}


def run(realm: Realm, body, request_id: str | None, ctx: service.WriteContext) -> dict:
	if not isinstance(body, dict) or not isinstance(body.get("BatchItemRequest"), list):
		raise F.required("BatchItemRequest")
	items = body["BatchItemRequest"]
	if len(items) > C.MAX_BATCH_ITEMS:
		raise F.business(
			f"The batch request has {len(items)} items; the maximum number of BatchItemRequest items is "
			f"{C.MAX_BATCH_ITEMS}.",
			"BatchItemRequest",
		)
	id_fault = None
	if request_id:
		for item in items:
			combined = f"{request_id}{item.get('bId', '')}"
			if len(request_id) > C.MAX_BATCH_REQUEST_ID or len(combined) > C.MAX_REQUEST_ID:
				id_fault = F.business(
					f"You cannot enter more than {C.MAX_REQUEST_ID} characters in the request_id field. "
					f"You entered "
					f"{combined} which is {len(combined)} characters"
				)
				break
	responses = []
	for item in items:
		bid = item.get("bId") if isinstance(item, dict) else None
		try:
			if id_fault is not None:
				raise id_fault
			if not isinstance(item, dict):
				raise F.required("BatchItemRequest")
			result = run_item(realm, item, ctx)
		except SandboxFault as fault:
			result = {"Fault": fault.fault_body()}
		result["bId"] = bid
		responses.append(result)
	return {"BatchItemResponse": responses}
