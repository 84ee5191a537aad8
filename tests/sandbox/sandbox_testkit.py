"""Helpers for the sandbox tests: an HTTP client bound to one realm and a structural JSON comparer.

Not a conftest so the comparer can be imported by name; the folder has no __init__.py (pytest's default
"prepend" import mode puts it on sys.path).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import requests
import yaml

from nexora_qbo.sandbox.util import dumps

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "qbo-fixtures"


def load_json(text):
	return json.loads(text, parse_float=Decimal)


class Api:
	"""A bearer-token client for one realm of a running SandboxServer."""

	def __init__(self, server, realm_id: str, tokens: dict | None = None):
		self.server = server
		self.realm = realm_id
		if tokens is None:
			client_id, _ = server.register_app(redirect_uri="http://127.0.0.1/cb")
			tokens = server.issue_tokens(realm_id, client_id)
		self.tokens = tokens
		self.session = requests.Session()

	@property
	def base(self) -> str:
		return f"{self.server.base_url}/v3/company/{self.realm}"

	def call(self, method: str, path: str, body=None, params=None, headers=None, raw: str | None = None):
		h = {
			"Authorization": f"Bearer {self.tokens['access_token']}",
			"Accept": "application/json",
			"Content-Type": "application/json",
		}
		h.update(headers or {})
		data = raw if raw is not None else (None if body is None else dumps(body))
		return self.session.request(method, self.base + path, data=data, params=params, headers=h, timeout=10)

	def ok(self, method: str, path: str, body=None, params=None, **kw) -> dict:
		resp = self.call(method, path, body, params, **kw)
		assert resp.status_code == 200, (resp.status_code, resp.text)
		return load_json(resp.text)

	def fault(self, method: str, path: str, body=None, params=None, status: int = 400, **kw) -> dict:
		resp = self.call(method, path, body, params, **kw)
		assert resp.status_code == status, (resp.status_code, resp.text)
		payload = load_json(resp.text)
		return payload["Fault"]["Error"][0] if "Fault" in payload else payload

	# entity helpers
	def read(self, entity: str, entity_id: str) -> dict:
		return self.ok("GET", f"/{entity.lower()}/{entity_id}")[entity]

	def create(self, entity: str, body: dict, requestid: str | None = None) -> dict:
		params = {"requestid": requestid, "minorversion": "75"} if requestid else {"minorversion": "75"}
		return self.ok("POST", f"/{entity.lower()}", body, params)[entity]

	def update(self, entity: str, body: dict) -> dict:
		return self.ok("POST", f"/{entity.lower()}", body, {"operation": "update"})[entity]

	def query(self, statement: str) -> dict:
		return self.ok("GET", "/query", params={"query": statement})["QueryResponse"]


def seeded(server, realm: str, kind: str, name: str) -> str:
	return server.seed_info(realm)[kind][name]


def cassette(rel: str) -> list[dict]:
	"""VCR interactions: [{"method","uri","request_body","status","body"}]."""
	data = yaml.safe_load((FIXTURES / rel).read_text())
	out = []
	for item in data["http_interactions"]:
		req, resp = item["request"], item["response"]
		out.append(
			{
				"method": req["method"].upper(),
				"uri": req["uri"],
				"request_body": (req.get("body") or {}).get("string") or "",
				"status": resp["status"]["code"],
				"headers": resp.get("headers", {}),
				"body": resp["body"]["string"],
			}
		)
	return out


def fixture_json(rel: str):
	return load_json((FIXTURES / rel).read_text())


def _kind(value) -> str:
	if value is None:
		return "null"
	if isinstance(value, bool):
		return "bool"
	if isinstance(value, (int, Decimal, float)):
		return "number"
	if isinstance(value, str):
		return "string"
	if isinstance(value, list):
		return "list"
	return "object"


def structure_diff(
	expected,
	actual,
	path: str = "$",
	ignore: frozenset = frozenset(),
	exact_keys: frozenset = frozenset({"$"}),
) -> list[str]:
	"""Differences in *structure* between a recorded QBO answer and ours: every key the fixture has must
	exist with the same JSON type (values such as Ids and times are ignored). At the paths in `exact_keys`
	the key sets must be identical (the envelope); elsewhere extra keys on our side are allowed. Paths in
	`ignore` (fields the sandbox does not model, e.g. addresses) are skipped. Lists compare their first
	element's structure."""
	problems: list[str] = []
	if path in ignore:
		return problems
	ek, ak = _kind(expected), _kind(actual)
	if ek != ak:
		return [f"{path}: expected {ek}, got {ak}"]
	if ek == "object":
		missing = [k for k in expected if k not in actual and f"{path}.{k}" not in ignore]
		problems += [f"{path}.{k}: missing" for k in missing]
		if path in exact_keys:
			extra = [k for k in actual if k not in expected]
			problems += [f"{path}.{k}: unexpected key" for k in extra]
		for key in expected:
			if key in actual:
				problems += structure_diff(expected[key], actual[key], f"{path}.{key}", ignore, exact_keys)
	elif ek == "list" and expected and actual:
		problems += structure_diff(expected[0], actual[0], f"{path}[]", ignore, exact_keys)
	elif ek == "list" and expected and not actual:
		problems.append(f"{path}: expected a non-empty list")
	return problems
