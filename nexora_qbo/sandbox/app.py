"""WSGI routing: exactly the paths of contracts.md §1 "custom" environment and §2.

`/v3/company/<realmId>/<entity>[/<id>]`, `/query`, `/cdc`, `/batch`, `/preferences`, `/companyinfo/<realmId>`,
`/exchangerate`, `/invoice/<id>/send`, `/invoice/<id>/pdf`; `/oauth2/authorize`, `/oauth2/v1/tokens/bearer`,
`/oauth2/v1/tokens/revoke`; the OpenID discovery document and JWKS; `GET /` (a guide page); `/_sandbox/...`.

Per API request, in order: bearer check (401 legacy envelope / 403 realm mismatch), per-realm rate limit
(429),
seeded fault injection (throttle/500/503/reset/latency), the operation under the realm lock (with requestid
replay for writes), then the "lost response" drop if one was drawn.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import date
from decimal import Decimal

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from . import admin, batch, cdc, constants as C, discovery, documents, faults as F, query, rates, service
from .entities import BY_PATH, SPECS
from .faults import SandboxFault
from .util import dumps, fmt_meta_time, fmt_response_time, loads

API_RE = re.compile(r"^/v3/company/([^/]+)/(.+?)/?$")
JSON_TYPE = "application/json;charset=UTF-8"


class DropConnection(ConnectionResetError):
	"""Raised to make the server close the socket without an HTTP answer (see server.Handler)."""


def tid() -> str:
	return f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"


class SandboxApp:
	def __init__(self, state):
		self.state = state

	def __call__(self, environ, start_response):
		request = Request(environ)
		try:
			response = self.dispatch(request)
		except HTTPException as exc:
			response = exc.get_response(environ)
		return response(environ, start_response)

	# ---- helpers ----------------------------------------------------------------------------------------
	def now(self):
		return self.state.clock.now()

	def json(self, status: int, obj, headers: dict | None = None, add_time: bool = True) -> Response:
		if add_time and isinstance(obj, dict) and "time" not in obj:
			obj = {**obj, "time": fmt_response_time(self.now())}
		resp = Response(dumps(obj), status=status, content_type=JSON_TYPE)
		resp.headers["Intuit-Tid"] = tid()
		resp.headers["Qbo-Version"] = C.QBO_VERSION_HEADER
		for k, v in (headers or {}).items():
			resp.headers[k] = v
		return resp

	def pdf(self, content: bytes) -> Response:
		resp = Response(content, status=200, content_type="application/pdf")
		resp.headers["Intuit-Tid"] = tid()
		resp.headers["Qbo-Version"] = C.QBO_VERSION_HEADER
		return resp

	def fault(self, fault: SandboxFault) -> Response:
		return self.json(fault.status, {"Fault": fault.fault_body()})

	def drop(self, request: Request):
		request.get_data()  # read the whole request first: the server "received" it
		raise DropConnection("sandbox fault injection: connection dropped")

	# ---- routing ----------------------------------------------------------------------------------------
	def dispatch(self, req: Request) -> Response:
		path = req.path
		if path.startswith("/_sandbox/") or path == "/_sandbox":
			return admin.handle(self, req)
		if path in ("/", ""):
			return self.landing(req)
		if path.rstrip("/") in discovery.DISCOVERY_PATHS:
			return self.oauth_json(200, discovery.discovery_document(req.host_url.rstrip("/")))
		if path == discovery.JWKS_PATH:
			return self.oauth_json(200, {"keys": []})  # no id_token is issued, so nothing to verify
		if path == "/oauth2/authorize":
			return self.oauth_authorize(req)
		if path == "/oauth2/v1/tokens/bearer":
			return self.oauth_token(req)
		if path == "/oauth2/v1/tokens/revoke":
			return self.oauth_revoke(req)
		m = API_RE.match(path)
		if not m:
			return self.fault(F.unsupported(path))
		return self.api(req, m.group(1), m.group(2))

	def landing(self, req: Request) -> Response:
		page = discovery.landing_page(req.host_url.rstrip("/"), list(self.state.realms))
		return Response(page, status=200, content_type="text/html; charset=utf-8")

	# ---- OAuth ------------------------------------------------------------------------------------------
	def oauth_json(self, status: int, body: dict | None) -> Response:
		resp = Response("" if body is None else dumps(body), status=status, content_type=JSON_TYPE)
		resp.headers["intuit_tid"] = tid()
		resp.headers["Cache-Control"] = "no-cache, no-store"
		resp.headers["Pragma"] = "no-cache"
		return resp

	def oauth_authorize(self, req: Request) -> Response:
		from .auth import OAuthError

		try:
			location = self.state.auth.authorize(
				req.args, lambda r: self.state.realm(r) is not None, self.now()
			)
		except OAuthError as err:
			return self.oauth_json(err.status, err.body)
		return Response("", status=302, headers={"Location": location})

	def oauth_token(self, req: Request) -> Response:
		from .auth import OAuthError

		if req.method != "POST":
			return self.oauth_json(405, {"error": "invalid_request"})
		kind, latency = self.state.oauth_faults.decide()
		if latency:
			time.sleep(latency)
		if kind == "reset":
			self.drop(req)
		if kind in ("error500", "error503", "throttle"):
			status = {"error500": 500, "error503": 503, "throttle": 429}[kind]
			return self.oauth_json(status, {"error": "server_error" if status != 429 else "rate_limited"})
		try:
			body = self.state.auth.token(req.headers, req.form, self.now())
		except OAuthError as err:
			return self.oauth_json(err.status, err.body)
		if kind == "lost_response":
			self.drop(req)  # the new pair was issued (and the old refresh token superseded)
		return self.oauth_json(200, body)

	def oauth_revoke(self, req: Request) -> Response:
		from .auth import OAuthError

		if req.method != "POST":
			return self.oauth_json(405, {"error": "invalid_request"})
		params = dict(req.form)
		if not params and req.get_data():
			try:
				params = loads(req.get_data()) or {}
			except ValueError:
				params = {}
		try:
			self.state.auth.revoke(req.headers, params)
		except OAuthError as err:
			return self.oauth_json(err.status, err.body)
		return self.oauth_json(200, None)

	# ---- the accounting API -----------------------------------------------------------------------------
	def api(self, req: Request, realm_id: str, rest: str) -> Response:
		now = self.now()
		status, detail = self.state.auth.check(req.headers.get("Authorization"), realm_id, now)
		if status == 401:
			body = F.auth_401_body(detail, int(now.timestamp() * 1000))
			return self.json(401, body, {"Www-Authenticate": C.WWW_AUTHENTICATE}, add_time=False)
		realm = self.state.realm(realm_id)
		if status == 403 or realm is None:
			return self.fault(F.authorization_fault(detail or f"Unknown company {realm_id}"))
		is_batch = rest.strip("/").lower() == "batch"
		with realm.lock:
			realm.count_stat("requests")
		if not realm.limiter.allow(now.timestamp(), batch=is_batch):
			with realm.lock:
				realm.count_stat("throttled")
				realm.count_stat("by_status", "429")
			return self.throttled(realm)
		kind, latency = realm.faults.decide()
		if latency:
			time.sleep(latency)
		if kind:
			with realm.lock:
				realm.count_stat("faults_injected", kind)
		if kind == "throttle":
			with realm.lock:
				realm.count_stat("throttled")
			return self.throttled(realm)
		if kind in ("error500", "error503"):
			return self.fault(F.system_fault(500 if kind == "error500" else 503))
		if kind == "reset":
			self.drop(req)
		response = self.route(req, realm, rest)
		if kind == "lost_response":
			self.drop(req)
		with realm.lock:
			realm.count_stat("by_status", str(response.status_code))
		return response

	def throttled(self, realm) -> Response:
		fmt = realm.options.throttle_format
		if fmt == "mix":
			with realm.lock:
				fmt = C.THROTTLE_MIX[realm.throttles_sent % len(C.THROTTLE_MIX)]
				realm.throttles_sent += 1
		if fmt == "random":
			fmt = realm.faults.rng.choice(["json", "xml"])
		headers = {}
		if realm.options.retry_after is not None:
			headers["Retry-After"] = str(int(realm.options.retry_after))
		if fmt in ("xml", "xml403"):
			status = 403 if fmt == "xml403" else 429
			resp = Response(
				F.throttle_xml(fmt_response_time(self.now()), status),
				status=status,
				content_type="application/xml;charset=UTF-8",
			)
			resp.headers["Intuit-Tid"] = tid()
			for k, v in headers.items():
				resp.headers[k] = v
			return resp
		return self.json(429, {"Fault": F.throttle_body(429)}, headers)

	def body_json(self, req: Request):
		raw = req.get_data()
		if not raw:
			raise F.business("The request body is empty.")
		try:
			return loads(raw)
		except ValueError as exc:
			raise F.validation(
				"2010",
				"Request has invalid or unsupported property",
				f"Malformed JSON request body: {exc}",
				None,
			) from None

	def route(self, req: Request, realm, rest: str) -> Response:
		parts = [p for p in rest.split("/") if p]
		seg = parts[0].lower() if parts else ""
		method = req.method
		events = []
		try:
			with realm.lock:
				now = self.now()
				if seg == "query" and len(parts) == 1 and method in ("GET", "POST"):
					text = req.args.get("query")
					if text is None and method == "POST":
						text = req.get_data(as_text=True)
					return self.json(200, {"QueryResponse": query.run(realm, text or "", now)})
				if seg == "cdc" and len(parts) == 1 and method == "GET":
					return self.json(
						200, cdc.run(realm, req.args.get("entities"), req.args.get("changedSince"), now)
					)
				if seg == "batch" and len(parts) == 1 and method == "POST":
					return self.write(
						req,
						realm,
						lambda ctx: batch.run(
							realm, self.body_json(req), req.args.get("requestid") or None, ctx
						),
						events,
						batch_mode=True,
					)
				if seg == "preferences" and len(parts) == 1:
					if method == "GET":
						return self.json(200, {"Preferences": service.read(realm, "Preferences", "1")})
					return self.write(
						req,
						realm,
						lambda ctx: {
							"Preferences": service.update(realm, "Preferences", self.body_json(req), ctx)
						},
						events,
					)
				if seg == "companyinfo":
					if method == "GET" and len(parts) == 2:
						if parts[1] != realm.id:
							raise F.not_found()
						return self.json(200, {"CompanyInfo": service.read(realm, "CompanyInfo", "1")})
					if method == "POST" and len(parts) == 1:
						return self.write(
							req,
							realm,
							lambda ctx: {
								"CompanyInfo": service.update(realm, "CompanyInfo", self.body_json(req), ctx)
							},
							events,
						)
				if seg == "exchangerate" and len(parts) == 1:
					return self.exchange_rate(req, realm)
				if seg in BY_PATH and seg not in ("preferences", "companyinfo"):
					entity = BY_PATH[seg]
					if len(parts) == 3 and entity in documents.SENDABLE:
						if parts[2] == "send" and method == "POST":
							return self.write(
								req,
								realm,
								lambda ctx: {
									entity: documents.send(
										realm, entity, parts[1], req.args.get("sendTo"), ctx
									)
								},
								events,
							)
						if parts[2] == "pdf" and method == "GET":
							return self.pdf(documents.pdf(realm, entity, parts[1]))
					if method == "GET" and len(parts) == 2:
						return self.json(200, {entity: service.read(realm, entity, parts[1])})
					if method == "POST" and len(parts) == 1:
						return self.write(
							req,
							realm,
							lambda ctx: {entity: self.entity_write(req, realm, entity, ctx)},
							events,
						)
				raise F.unsupported(req.path)
		except SandboxFault as fault:
			return self.fault(fault)
		finally:
			if events:
				self.state.webhooks.emit(realm, events)

	def entity_write(self, req: Request, realm, entity: str, ctx):
		op = (req.args.get("operation") or "").lower()
		include = (req.args.get("include") or "").lower()
		body = self.body_json(req)
		if op == "void":
			return service.void(realm, entity, body, ctx, "void")
		if op == "delete":
			return service.delete(realm, entity, body, ctx)
		if op == "update" and include == "void":
			return service.void(realm, entity, body, ctx, "update")
		if op == "update" or (op == "" and isinstance(body, dict) and body.get("Id")):
			return service.update(realm, entity, body, ctx)
		if op in ("", "create"):
			return service.create(realm, entity, body, ctx)
		raise F.unsupported_operation(f"Operation {op} is not supported.")

	def write(self, req: Request, realm, operation, events: list, batch_mode: bool = False) -> Response:
		"""requestid replay (§6): the same id in the same realm returns the ORIGINAL status and body without
		repeating the operation, even if the object was deleted since. Only successful (200) answers are
		remembered, so a request that failed validation can be corrected and re-sent with the same id."""
		rid = req.args.get("requestid") or ""
		if rid and not batch_mode and len(rid) > C.MAX_REQUEST_ID:
			raise F.business(
				f"You cannot enter more than {C.MAX_REQUEST_ID} characters in the request_id field. "
				f"You entered "
				f"{rid} which is {len(rid)} characters"
			)
		key = ("batch:" if batch_mode else "") + rid
		if rid and key in realm.request_cache:
			status, payload, ctype = realm.request_cache[key]
			realm.count_stat("replays")
			resp = Response(payload, status=status, content_type=ctype)
			resp.headers["Intuit-Tid"] = tid()
			resp.headers["Qbo-Version"] = C.QBO_VERSION_HEADER
			return resp
		ctx = service.WriteContext(realm, self.now())
		result = operation(ctx)
		response = self.json(200, result)
		if rid:
			realm.request_cache[key] = (200, response.get_data(), JSON_TYPE)
		events.extend(ctx.events)
		return response

	def exchange_rate(self, req: Request, realm) -> Response:
		now = self.now()
		if req.method == "GET":
			source = (req.args.get("sourcecurrencycode") or "").upper()
			if not source:
				raise F.required("sourcecurrencycode")
			as_of_text = req.args.get("asofdate")
			try:
				as_of = date.fromisoformat(as_of_text) if as_of_text else now.date()
			except ValueError:
				raise F.business(f"Invalid asofdate {as_of_text}", "asofdate") from None
			obj = rates.exchange_rate_object(realm, source, as_of, fmt_meta_time(now))
			return self.json(200, {"ExchangeRate": obj})
		body = self.body_json(req)
		source = str(body.get("SourceCurrencyCode") or "").upper()
		if not source:
			raise F.required("SourceCurrencyCode")
		if not body.get("AsOfDate"):
			raise F.required("AsOfDate")
		rate = body.get("Rate")
		if rate is None:
			raise F.required("Rate")
		try:
			as_of = date.fromisoformat(str(body["AsOfDate"]))
			rate = Decimal(str(rate))
		except (ValueError, ArithmeticError):
			raise F.business("Invalid AsOfDate or Rate", "Rate") from None
		if rate <= 0:
			raise F.business("Rate must be positive", "Rate")
		rates.set_rate(realm, source, as_of, rate)
		return self.json(
			200, {"ExchangeRate": rates.exchange_rate_object(realm, source, as_of, fmt_meta_time(now))}
		)


__all__ = ["SandboxApp", "DropConnection", "SPECS"]
