"""Change Data Capture, shaped as fx:minimul-qbo_api/cdc/basic.yml (qbo-api.md §2).

- `QueryResponse` is an array with one element per requested entity, in request order; an entity with no
  changes gives an empty element `{}`.
- Deleted objects come back as stubs {"domain","status":"Deleted","Id","MetaData":{"LastUpdatedTime"}};
  voided transactions are ordinary updates.
- changedSince older than 30 days (sandbox clock) → 400 ValidationFault code 4001 with QBO's reported text.
- The 1000-object cap (configurable per realm: `cdc_cap`) is on the SUM across entities. Our choice: the
  OLDEST changes are returned first (by change sequence), so a client that advances its checkpoint to the
  newest
  LastUpdatedTime it saw never skips an object; a response holding `cap` objects is saturated.
- TaxCode/TaxRate are not covered by CDC (§2): they always come back empty.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from . import constants as C
from . import faults as F
from .entities import SPECS
from .model import Realm
from .service import deleted_stub, render
from .util import parse_datetime

_LOOKUP = {name.lower(): name for name in SPECS}


def run(realm: Realm, entities_param: str | None, changed_since: str | None, now: datetime) -> dict:
	if not entities_param:
		raise F.required("entities")
	if not changed_since:
		raise F.required("changedSince")
	names = []
	for raw in entities_param.split(","):
		key = raw.strip().lower()
		if not key:
			continue
		if key not in _LOOKUP:
			raise F.query_invalid(f"Invalid entity name in cdc request : {raw.strip()}")
		names.append(_LOOKUP[key])
	try:
		since = parse_datetime(changed_since)
	except ValueError:
		raise F.business(f"Invalid changedSince value {changed_since}", "changedSince") from None
	if since < now - timedelta(days=C.CDC_MAX_LOOKBACK_DAYS):
		raise F.validation(
			"4001",
			C.MSG_QUERY_INVALID,
			f"Operation cdc with changedSince date {changed_since} which is older than fixed days is "
			"not supported.",
			None,
		)
	changed = []
	for name in dict.fromkeys(names):
		if not SPECS[name].cdc:
			continue
		for rec in realm.records.get(name, {}).values():
			if rec.updated >= since:
				changed.append(rec)
	changed.sort(key=lambda r: r.seq)
	changed = changed[: max(0, int(realm.options.cdc_cap))]
	grouped: dict[str, list] = {}
	for rec in changed:
		obj = deleted_stub(rec, with_meta=True) if rec.deleted else render(realm, rec)
		grouped.setdefault(rec.entity, []).append(obj)
	elements = []
	for name in names:
		objs = grouped.get(name)
		elements.append({name: objs, "startPosition": 1, "maxResults": len(objs)} if objs else {})
	return {"CDCResponse": [{"QueryResponse": elements}]}
