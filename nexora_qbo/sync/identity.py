"""Checks made before anything is sent: a document's number fits QBO, its dimensions are mapped.

Why here and not in QBO's answer: QBO truncates nothing and explains little (a 22-character DocNumber is a
generic validation fault), and an unmapped class or location would silently vanish from the QBO document
(P&L by class and location would then be wrong without anyone knowing). Both become review items with the fix
named, before the first request for that document.
"""
from __future__ import annotations

from nexora_qbo.sync import constants as C
from nexora_qbo.sync import preferences as P
from nexora_qbo.sync.errors import Unresolvable
from nexora_qbo.sync.ports import RealmSettings

_WHAT = {C.INVOICE: "invoice", C.CREDIT_MEMO: "credit note"}
_DIMENSION = {
	"class": ("cost center", "QuickBooks class", "Class"),
	"location": ("branch (location)", "QuickBooks location", "Department"),
}


class DocNumberTooLong(Unresolvable):
	"""The ERPNext name does not fit QBO's 21-character DocNumber."""


class UnmappedDimension(Unresolvable):
	"""A class or location on the document has no QBO counterpart in the realm's reference maps."""


def check_doc_number(local_type: str, doc_number: str | None) -> str | None:
	if doc_number and len(doc_number) > C.QBO_DOC_NUMBER_MAX:
		what = _WHAT.get(local_type, "document")
		raise DocNumberTooLong(
			f"The {what} number {doc_number} has {len(doc_number)} characters; QuickBooks allows at most "
			f"{C.QBO_DOC_NUMBER_MAX}. Nothing was sent. Use a shorter naming series for sales invoices (for example "
			f"SINV-.YY.-.#####), or turn off custom transaction numbers in QuickBooks (Account and settings > Sales "
			f"> Custom transaction numbers) so QuickBooks numbers it, then choose \u201cRetry\u201d."
		)
	return doc_number


def mapped(settings: RealmSettings, map_attr: str, local: str | None, what: str) -> str | None:
	"""The QBO Id of a local class/location. Unmapped while QBO tracks that dimension: a review item (the
	dimension is never dropped silently). Before QBO's preferences were read: sent when mapped, as before."""
	from nexora_qbo.sync.entities.base import list_to_qbo  # (entities import this module)

	if local is None:
		return None
	qbo_id = list_to_qbo(getattr(settings, map_attr), local)
	if qbo_id is None and P.known(settings):
		local_word, qbo_word, _ = _DIMENSION[what]
		raise UnmappedDimension(
			f"The {local_word} {local} has no {qbo_word} mapped for this QuickBooks company, so the document "
			f"was not sent (it would reach QuickBooks without its {qbo_word}). Pick the {qbo_word} for {local} in "
			f"the QBO Realm's reference maps, then choose \u201cRetry\u201d."
		)
	return qbo_id
