"""One module per business entity: how a canonical record becomes a QBO payload and back.

`ENTITIES` maps local type → the entity spec; `BY_QBO` maps QBO entity name → spec; `ordered()` yields them
in dependency order (customers and items before invoices, invoices before credit memos and payments, payments before the bank deposits that hold them).
"""
from __future__ import annotations

from nexora_qbo.sync.entities.base import EntitySpec, Resolver
from nexora_qbo.sync.entities.credit_memo import CreditMemoSpec
from nexora_qbo.sync.entities.customer import CustomerSpec
from nexora_qbo.sync.entities.deposit import DepositSpec
from nexora_qbo.sync.entities.invoice import InvoiceSpec
from nexora_qbo.sync.entities.item import ItemSpec
from nexora_qbo.sync.entities.payment import PaymentSpec
from nexora_qbo.sync.entities.refund import RefundSpec
from nexora_qbo.sync.entities.refund_receipt import RefundReceiptSpec

ENTITIES: dict[str, EntitySpec] = {
	spec.local_type: spec for spec in (CustomerSpec(), ItemSpec(), InvoiceSpec(), CreditMemoSpec(), PaymentSpec(),
		DepositSpec(), RefundSpec(), RefundReceiptSpec())
}
BY_QBO: dict[str, EntitySpec] = {spec.qbo_entity: spec for spec in ENTITIES.values()}


def ordered() -> list[EntitySpec]:
	return sorted(ENTITIES.values(), key=lambda s: (s.rank, s.local_type))


__all__ = ["BY_QBO", "ENTITIES", "EntitySpec", "Resolver", "ordered"]
