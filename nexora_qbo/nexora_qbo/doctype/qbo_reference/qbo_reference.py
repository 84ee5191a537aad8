# Copyright (c) 2026, Nexora QBO and contributors
# For license information, please see license.txt
"""QBO Reference: one entry of a QuickBooks list (Class, Department/Location, Term, TaxCode, PaymentMethod,
Account) of one realm, as read from QBO by the pull (sync/references.py). People pick these in the realm's
reference maps instead of typing QBO Ids; only the sync writes them."""

from __future__ import annotations

from nexora_qbo.erpnext.guards import EngineOwnedDocument


class QBOReference(EngineOwnedDocument):
	"""Written only by the engine (FrappeStore.save_references)."""
