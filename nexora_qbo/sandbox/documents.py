"""`POST /invoice/<id>/send[?sendTo=]` and `GET /invoice/<id>/pdf`: the sandbox's model of QBO's e-mail and PDF
operations on a sales form.

Sources: python-quickbooks' `SendMixin` posts `<entity>/<id>/send?sendTo=<quoted address>` with content type
`application/octet-stream` and reads the entity back; `QuickbooksPdfDownloadable` GETs `<entity>/<id>/pdf` with
`Accept: application/pdf` (repo ej2/python-quickbooks quickbooks/mixins.py). qbo-api.md §5: a sandbox company
may send 40 e-mails a day. §9 Invoice lists `EmailStatus`, `BillEmail`, `DeliveryInfo`.

Our choices where nothing is recorded (sandbox README): the send bumps SyncToken and LastUpdatedTime like any
change; the day is the company's (Pacific) date on the sandbox clock; the 41st send of a day and a send with
no address answer 6000; the PDF is a small, valid one-page PDF naming the document, not QBO's layout.
"""

from __future__ import annotations

from . import constants as C
from . import faults as F
from .model import Realm
from .service import WriteContext, render, valid_id
from .util import fmt_meta_time, pacific_date

SENDABLE = ("Invoice",)


def _record(realm: Realm, entity: str, record_id: str):
	rec = realm.get(entity, valid_id(entity, record_id))
	if rec is None:
		raise F.not_found()
	return rec


def send(realm: Realm, entity: str, record_id: str, send_to: str | None, ctx: WriteContext) -> dict:
	"""Mark the form e-mailed (EmailStatus EmailSent, DeliveryInfo) and count it against the daily limit."""
	rec = _record(realm, entity, record_id)
	address = (send_to or "").strip() or (rec.data.get("BillEmail") or {}).get("Address", "")
	if not address:
		raise F.business("An e-mail address is required: pass sendTo or set BillEmail.", "BillEmail")
	day = pacific_date(ctx.now).isoformat()
	sent = realm.emails_sent.get(day, 0)
	if sent >= realm.options.emails_per_day:
		raise F.business(
			f"The sandbox company's daily e-mail limit ({realm.options.emails_per_day}) has been reached.",
			"sendTo",
		)
	realm.emails_sent[day] = sent + 1
	realm.count_stat("emails_sent")
	if send_to:
		rec.data["BillEmail"] = {"Address": address}
	rec.data["EmailStatus"] = "EmailSent"
	rec.data["DeliveryInfo"] = {"DeliveryType": "Email", "DeliveryTime": fmt_meta_time(ctx.now)}
	ctx.bump(rec)
	ctx.event(rec, "Emailed")
	return render(realm, rec)


def pdf(realm: Realm, entity: str, record_id: str) -> bytes:
	"""A minimal valid PDF (header, one page, one text line, xref, trailer) for the form."""
	data = _record(realm, entity, record_id).data
	label = f"{entity} {data.get('DocNumber') or data['Id']} total {data.get('TotalAmt')} {C.PDF_PRODUCER}"
	text = label.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
	stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
	objects = [
		b"<< /Type /Catalog /Pages 2 0 R >>",
		b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
		b"/Resources << /Font << /F1 5 0 R >> >> >>",
		b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
		b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	]
	out = bytearray(b"%PDF-1.4\n")
	offsets = []
	for n, obj in enumerate(objects, start=1):
		offsets.append(len(out))
		out += b"%d 0 obj\n" % n + obj + b"\nendobj\n"
	xref = len(out)
	out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
	out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
	out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
	return bytes(out)
