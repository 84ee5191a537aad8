"""Links into QuickBooks Online's own web app (production and sandbox companies; a custom server has none).

One place, so the document forms, the review item and the reconciliation report open the same pages."""

from __future__ import annotations

from nexora_qbo.erpnext import constants as K


def qbo_app_url(environment: str | None, entity: str | None, qbo_id: str | None) -> str | None:
	"""The QuickBooks web app page of a record, or None (custom endpoint, or no page for that entity)."""
	base = K.QBO_APP_URL.get(environment or "")
	page = K.QBO_APP_PAGE.get(entity or "")
	if not base or not page or not qbo_id:
		return None
	key = "nameId" if entity == "Customer" else "txnId"
	return f"{base}/{page}?{key}={qbo_id}"
