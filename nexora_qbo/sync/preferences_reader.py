"""Reading a realm's QBO set-up (Preferences, CompanyInfo) onto its settings: the engine's collaborator.

Why apart from sync/preferences.py: that module holds the pure summary the entity mappers consult on every
document (class per line, tax, numbering); this one does the HTTP reads and the settings write, and needs
the engine's services, which the mappers must not import (they are below it).
"""
from __future__ import annotations

from nexora_qbo.sync.preferences import summarize
from nexora_qbo.sync.services import Collaborator


class Preferences(Collaborator):
	"""Reads QBO's set-up (one GET each for Preferences and CompanyInfo, audited) into the realm settings."""

	def read_preferences(self, realm_id: str) -> dict:
		settings = self.services.settings(realm_id)
		client = self.services.client(realm_id)
		prefs = client.preferences()
		try:
			info = client.company_info()
		except Exception:  # CompanyInfo only gives the country; Preferences are what matter
			info = None
		settings.preferences = summarize(prefs, info)
		self.store.save_settings(settings)
		return settings.preferences

