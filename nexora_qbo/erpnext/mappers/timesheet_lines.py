"""The client-readable description and service date of a Sales Invoice line billed from ERPNext Timesheets.

Why: ERPNext's own "Make Sales Invoice" from a Timesheet (erpnext.projects...timesheet.make_sales_invoice)
adds one item row whose description is the ITEM's ("Regular Hours"), and links the billed time logs in the
invoice's `timesheets` table; nothing on the row names the worker or the week. Sent as is, QBO shows the item
on the client's invoice (and copies the item's own description into the line, which then becomes the merge
base), and a review item about hours cut on one worker's line could only name the item. So a row that still
has the item's default description gets one built from the time logs it bills: "Maria Lopez, week of
2026-11-02, 40.00 h regular". A description someone typed on the row is never replaced.

Which time logs a row bills: ERPNext does not link item rows to time logs, so a row is matched to a timesheet
(one worker, one period) by its hours, in row order: an overtime or double-time item (its own item, or a time
log whose activity type says so) to the first timesheet not yet billed on another row whose hours of that kind
equal the row's quantity; any other item to a timesheet whose billed hours (all of them: ERPNext's own
make_sales_invoice bills a whole timesheet on one row), or else whose regular hours, equal its quantity. A row
that matches nothing (a per diem, a quantity edited by hand) keeps its description: no guess that could name
the wrong worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal

import frappe
from frappe.utils import get_datetime

from nexora_qbo.erpnext import constants as K
from nexora_qbo.erpnext.mappers import dec, text

# the Sales Invoice Timesheet fields this module reads (the light read in sales_invoice.py loads them)
TIMESHEET_FIELDS = ("time_sheet", "from_time", "to_time", "billing_hours", "activity_type")


def hours_kind(*names) -> str | None:
	"""'overtime' / 'double time' when an item or activity name says so, else None."""
	for name in names:
		low = f" {(name or '').lower()} "
		for kind, words in K.HOURS_KINDS:
			if any(w in low for w in words):
				return kind
	return None


@dataclass
class _Sheet:
	name: str
	worker: str | None = None
	start: date | None = None
	end: date | None = None
	hours: dict = field(default_factory=dict)  # kind -> Decimal

	def total(self) -> Decimal:
		return sum(self.hours.values(), Decimal(0))

	def period(self) -> str:
		if self.start is None:
			return ""
		end = self.end or self.start
		if end == self.start:
			return str(self.start)
		monday = self.start - timedelta(days=self.start.weekday())
		if end <= monday + timedelta(days=6):
			return f"week of {monday}"
		return f"{self.start} to {end}"


def _day_range(from_time, to_time) -> tuple[date | None, date | None]:
	"""The days a time log covers; a log that ends at midnight ends on the day before."""
	if not from_time:
		return None, None
	start = get_datetime(from_time)
	end = get_datetime(to_time) if to_time else start
	if end > start and end.time() == time(0):
		end -= timedelta(seconds=1)
	return start.date(), end.date()


def _sheets(rows) -> dict[str, _Sheet]:
	"""The billed time logs per timesheet, in the invoice's order, with each timesheet's worker."""
	sheets: dict[str, _Sheet] = {}
	for r in rows:
		s = sheets.setdefault(r.time_sheet or "", _Sheet(r.time_sheet or ""))
		kind = hours_kind(r.activity_type) or K.REGULAR_HOURS
		s.hours[kind] = s.hours.get(kind, Decimal(0)) + abs(dec(r.billing_hours))
		first, last = _day_range(r.from_time, r.to_time)
		if first:
			s.start = min(s.start, first) if s.start else first
			s.end = max(s.end, last) if s.end else last
	names = [n for n in sheets if n]
	if names:
		for ts in frappe.get_all("Timesheet", filters={"name": ("in", names)}, fields=["name", "employee_name",
			"employee"]):
			sheets[ts.name].worker = text(ts.employee_name) or text(ts.employee)
	return sheets


def _item_defaults(items) -> dict[str, set]:
	"""Per item code, the descriptions ERPNext fills in by itself (code, name, the Item's description)."""
	codes = sorted({it.item_code for it in items if it.item_code})
	out = {c: {c} for c in codes}
	if codes:
		for row in frappe.get_all("Item", filters={"name": ("in", codes)}, fields=["name", "item_name", "description"]):
			out[row.name] |= {text(row.item_name), text(row.description)}
	return out


def _describe(sheet: _Sheet, qty: Decimal, kind: str | None) -> str:
	who = [sheet.worker] if sheet.worker else []
	when = [sheet.period()] if sheet.start else []
	if kind is None and len(sheet.hours) > 1 and qty == sheet.total():
		hours = [f"{h:.2f} h {k}" for k, h in sheet.hours.items()]
	else:
		own = kind or next(iter(sheet.hours), K.REGULAR_HOURS)
		hours = [f"{qty:.2f} h {own}"]
	return ", ".join(who + when + hours)


def _match(sheets: dict[str, _Sheet], used: dict, kind: str | None, qty: Decimal):
	"""(timesheet, the kind of its hours the row bills, None = all of them) or (None, None); `used` holds the
	kinds already billed per timesheet on earlier rows ("*" = the whole timesheet)."""
	for s in sheets.values():
		taken = used.get(s.name, set())
		if "*" in taken:
			continue
		if kind is not None:
			if kind not in taken and s.hours.get(kind) == qty:
				return s, kind
		elif not taken and s.total() == qty:
			return s, None
		elif K.REGULAR_HOURS not in taken and s.hours.get(K.REGULAR_HOURS) == qty:
			return s, K.REGULAR_HOURS
	return None, None


def line_texts(doc) -> list[tuple[str | None, date | None]]:
	"""Per item row of the invoice: (the description built from its timesheet or None to keep the row's own,
	the first day worked on that timesheet or None)."""
	items = doc.get("items") or []
	rows = doc.get("timesheets") or []
	if not rows:
		return [(None, None)] * len(items)
	sheets = _sheets(rows)
	defaults = _item_defaults(items)
	used: dict = {}
	out = []
	for it in items:
		kind = hours_kind(it.item_code, it.item_name)
		sheet, matched_kind = _match(sheets, used, kind, abs(dec(it.qty)))
		if sheet is None:
			out.append((None, None))
			continue
		used.setdefault(sheet.name, set()).add(matched_kind or "*")
		own = text(it.description)
		default = own is None or own in defaults.get(it.item_code, set())
		out.append((_describe(sheet, abs(dec(it.qty)), matched_kind) if default else None, sheet.start))
	return out
