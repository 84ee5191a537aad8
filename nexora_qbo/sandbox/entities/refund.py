"""RefundReceipt: money paid back to a customer for a sale taken back (qbo-api.md §1 lists it as deletable
and with webhooks; the rest of this model comes from the sources named here, because qbo-api.md says nothing
else about it).

Shape [repo:ej2/python-quickbooks:quickbooks/objects/refundreceipt.py]: the line model of a SalesReceipt
(`Line[]` SalesItemLineDetail/DescriptionOnly, `TxnTaxDetail`, `TotalAmt` computed from the lines), plus
`DepositToAccountRef` ("names the account the refund was paid from", glama caribooks create_refund_receipt),
`PaymentMethodRef`, `PaymentRefNum`, `CustomerRef`, `CurrencyRef`/`ExchangeRate`, `Balance`. Not voidable
through the API (VoidMixin is not on it), only deletable (DeleteMixin).

Effect on the books: a sale in reverse, paid at once. Its item lines debit the items' income accounts (the
revenue goes down by the lines), `DepositToAccountRef` is credited (the money leaves that account), and A/R is
never touched: `Balance` is always 0 and the customer's Balance does not move. It is therefore NOT the way to
pay out a credit memo's balance (that credit memo already took the revenue back): Intuit's help for refunding
a customer's credit is a money-out transaction posting to Accounts Receivable, then Receive payment linking
the credit to it (kb.geekgirlsit: "use account Accounts Receivable"), which this sandbox models as a
JournalEntry (journal.py) linked with the CreditMemo by a zero Payment.

ASSUMED (no source either way): a `LinkedTxn` sent on a RefundReceipt is not kept (QBO drops read-only links
it does not keep; nothing shows QBO Online linking a refund receipt to a credit memo), and a Payment cannot
link a RefundReceipt (it has no open balance). `DepositToAccountRef` is required (QBO's UI requires
"Refund From").
"""

from __future__ import annotations

from decimal import Decimal

from .. import faults as F
from ..util import money, to_decimal
from .sales import SalesTxnSpec

ZERO = Decimal("0")


class RefundReceiptSpec(SalesTxnSpec):
	name = "RefundReceipt"

	def defaults(self, realm):
		return {"ApplyTaxAfterDiscount": False, "PrintStatus": "NeedToPrint"}

	def prepare(self, realm, data, body, old, now):
		if not isinstance(data.get("DepositToAccountRef"), dict) or not data["DepositToAccountRef"].get("value"):
			raise F.required("DepositToAccountRef")
		if realm.get("Account", str(data["DepositToAccountRef"]["value"])) is None:
			raise F.not_found()
		data["LinkedTxn"] = []
		extras = super().prepare(realm, data, body, old, now)
		if money(to_decimal(data.get("TotalAmt"), ZERO)) < 0:
			raise F.business("A refund receipt's total can't be negative.", "TotalAmt")
		data["LinkedTxn"] = []
		data["Balance"] = money(ZERO)  # paid at once
		data["HomeBalance"] = money(ZERO)
		return extras

	def after_write(self, realm, record, old_data, ctx):
		"""Paid at once: no open balance, no links (the sales-transaction balance refresh does not apply)."""
		record.data["Balance"] = money(ZERO)
		record.data["HomeBalance"] = money(ZERO)
		record.data["LinkedTxn"] = []
