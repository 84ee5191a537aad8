"""Entity rules, one module per family; `SPECS` maps the QBO entity name to its rules."""

from __future__ import annotations

from .base import EntitySpec
from .company import CompanyInfoSpec, PreferencesSpec
from .names import (
	AccountSpec,
	ClassSpec,
	CompanyCurrencySpec,
	CustomerSpec,
	DepartmentSpec,
	EmployeeSpec,
	ItemSpec,
	PaymentMethodSpec,
	TaxCodeSpec,
	TaxRateSpec,
	TermSpec,
	VendorSpec,
)
from .deposit import DepositSpec
from .journal import JournalEntrySpec
from .payment import PaymentSpec
from .refund import RefundReceiptSpec
from .sales import CreditMemoSpec, InvoiceSpec

SPECS: dict[str, EntitySpec] = {
	spec.name: spec
	for spec in (
		CustomerSpec(),
		VendorSpec(),
		EmployeeSpec(),
		ItemSpec(),
		AccountSpec(),
		ClassSpec(),
		DepartmentSpec(),
		TermSpec(),
		PaymentMethodSpec(),
		TaxCodeSpec(),
		TaxRateSpec(),
		CompanyCurrencySpec(),
		InvoiceSpec(),
		CreditMemoSpec(),
		PaymentSpec(),
		DepositSpec(),
		RefundReceiptSpec(),
		JournalEntrySpec(),
		PreferencesSpec(),
		CompanyInfoSpec(),
	)
}
# URL segment (lower case, §0) -> entity name
BY_PATH: dict[str, str] = {name.lower(): name for name in SPECS}


def spec_for(entity: str) -> EntitySpec:
	return SPECS[entity]
