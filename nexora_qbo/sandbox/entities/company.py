"""Preferences and CompanyInfo: singletons with Id "1" (fx:Boulevard-ExQuickBooks/read_preferences.json).

Preferences drive behaviour elsewhere (class/department tracking, CustomTxnNumbers, MultiCurrencyEnabled,
ProductAndServicesPrefs.QuantityOnHand), so the stored record is the single source of truth.
"""

from __future__ import annotations

from .. import faults as F
from .base import EntitySpec


class PreferencesSpec(EntitySpec):
	name = "Preferences"
	cdc = True

	def prepare(self, realm, data, body, old, now):
		if old is None:
			return {}
		was = bool(old.data.get("CurrencyPrefs", {}).get("MultiCurrencyEnabled"))
		now_on = bool(data.get("CurrencyPrefs", {}).get("MultiCurrencyEnabled"))
		if was and not now_on:
			raise F.business(
				"Multicurrency can't be turned off once it is on.", "CurrencyPrefs.MultiCurrencyEnabled"
			)
		old_home = old.data.get("CurrencyPrefs", {}).get("HomeCurrency", {}).get("value")
		new_home = data.get("CurrencyPrefs", {}).get("HomeCurrency", {}).get("value")
		if old_home != new_home:
			raise F.business("The home currency can't be changed.", "CurrencyPrefs.HomeCurrency")
		return {}


class CompanyInfoSpec(EntitySpec):
	name = "CompanyInfo"
	read_only = False

	def prepare(self, realm, data, body, old, now):
		if not data.get("CompanyName"):
			raise F.required("CompanyName")
		return {}
