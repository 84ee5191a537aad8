"""`Bookkeeper(server, realm_id)`: a person editing the books in QBO, as just another API client.

It registers its own OAuth app and token with the sandbox and talks HTTP like any integration, so its edits
bump SyncTokens, fire webhooks and show up in CDC exactly like a real user's would. Tests use it to "edit a
customer in QBO" behind the sync engine's back.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import requests

from .util import dumps, loads


class BookkeeperError(Exception):
	def __init__(self, status: int, body):
		super().__init__(f"HTTP {status}: {body}")
		self.status = status
		self.body = body


class Bookkeeper:
	def __init__(self, server, realm_id: str, session: requests.Session | None = None):
		self.server = server
		self.realm_id = realm_id
		client_id, _ = server.register_app(redirect_uri="http://127.0.0.1/bookkeeper")
		self.tokens = server.issue_tokens(realm_id, client_id)
		self.session = session or requests.Session()

	@property
	def base(self) -> str:
		return f"{self.server.base_url}/v3/company/{self.realm_id}"

	def _call(self, method: str, path: str, body=None, params=None, content_type="application/json"):
		headers = {
			"Authorization": f"Bearer {self.tokens['access_token']}",
			"Accept": "application/json",
			"Content-Type": content_type,
		}
		data = None if body is None else (body if isinstance(body, str) else dumps(body))
		resp = self.session.request(
			method, self.base + path, data=data, params=params, headers=headers, timeout=10
		)
		xml = resp.headers.get("Content-Type", "").startswith("application/xml")
		payload = resp.text if xml else (loads(resp.content) if resp.content else None)
		if resp.status_code != 200:
			raise BookkeeperError(resp.status_code, payload)  # a throttle may be XML (§5): kept as text
		return payload

	def read(self, entity: str, entity_id: str) -> dict:
		return self._call("GET", f"/{entity.lower()}/{entity_id}")[entity]

	def create(self, entity: str, body: dict, request_id: str | None = None) -> dict:
		return self._call("POST", f"/{entity.lower()}", body, {"requestid": request_id or uuid.uuid4().hex})[
			entity
		]

	def update(self, entity: str, entity_id: str, changes: dict, sparse: bool = True) -> dict:
		"""Read the current SyncToken and apply `changes` (sparse by default)."""
		current = self.read(entity, entity_id)
		if sparse:
			body = {"Id": entity_id, "SyncToken": current["SyncToken"], "sparse": True, **changes}
		else:
			body = {k: v for k, v in current.items() if k not in ("MetaData",)}
			body.update(changes)
			body["sparse"] = False
		return self._call("POST", f"/{entity.lower()}", body, {"operation": "update"})[entity]

	def deactivate(self, entity: str, entity_id: str) -> dict:
		return self.update(entity, entity_id, {"Active": False})

	def delete(self, entity: str, entity_id: str) -> dict:
		current = self.read(entity, entity_id)
		body = {"Id": entity_id, "SyncToken": current["SyncToken"]}
		return self._call("POST", f"/{entity.lower()}", body, {"operation": "delete"})[entity]

	def void(self, entity: str, entity_id: str) -> dict:
		current = self.read(entity, entity_id)
		if entity == "Invoice":
			body, params = {"Id": entity_id, "SyncToken": current["SyncToken"]}, {"operation": "void"}
		else:
			body = {"Id": entity_id, "SyncToken": current["SyncToken"], "sparse": True}
			params = {"operation": "update", "include": "void"}
		return self._call("POST", f"/{entity.lower()}", body, params)[entity]

	def merge(self, entity: str, from_id: str, into_id: str) -> dict:
		"""The UI's merge of two customers (no QBO API operation exists; the sandbox's admin endpoint)."""
		resp = self.session.post(f"{self.server.base_url}/_sandbox/realms/{self.realm_id}/merge",
			data=dumps({"entity": entity, "from": str(from_id), "into": str(into_id)}),
			headers={"Content-Type": "application/json"}, timeout=10)
		payload = loads(resp.content) if resp.content else None
		if resp.status_code != 200:
			raise BookkeeperError(resp.status_code, payload)
		return payload[entity]

	def _admin(self, method: str, sub: str, body=None):
		resp = self.session.request(method, f"{self.server.base_url}/_sandbox/realms/{self.realm_id}/{sub}",
			data=dumps(body) if body is not None else None, headers={"Content-Type": "application/json"}, timeout=10)
		payload = loads(resp.content) if resp.content else None
		if resp.status_code != 200:
			raise BookkeeperError(resp.status_code, payload)
		return payload

	def set_exchange_rate(self, currency: str, day: str, rate) -> dict:
		"""The bookkeeper (or QBO's own feed) sets the rate of a day: POST /exchangerate, as the API does it."""
		return self._call("POST", "/exchangerate", {"SourceCurrencyCode": currency, "AsOfDate": str(day),
			"Rate": Decimal(str(rate))})["ExchangeRate"]

	def exchange_gains(self) -> dict:
		"""QBO's realized exchange gain/loss per payment (sandbox admin API; see sandbox/admin.py)."""
		return self._admin("GET", "exchangegains")

	def query(self, statement: str) -> dict:
		return self._call("GET", "/query", params={"query": statement})["QueryResponse"]

	def receive_payment(self, customer_id: str, amount, invoice_ids: list[str] | None = None) -> dict:
		"""A payment applied in full to each invoice's open balance, in order, up to `amount`."""
		remaining = Decimal(str(amount))
		lines = []
		for inv_id in invoice_ids or []:
			inv = self.read("Invoice", inv_id)
			part = min(remaining, Decimal(str(inv["Balance"])))
			if part > 0:
				lines.append({"Amount": part, "LinkedTxn": [{"TxnId": inv_id, "TxnType": "Invoice"}]})
				remaining -= part
		return self.create(
			"Payment",
			{"CustomerRef": {"value": customer_id}, "TotalAmt": Decimal(str(amount)), "Line": lines},
		)
