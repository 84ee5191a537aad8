"""`/_sandbox/...` JSON endpoints for the bookkeeper/test harness (no auth: a local tool).

GET  /_sandbox/realms                      list realm ids
POST /_sandbox/realms                      {"options": {...RealmOptions}, "seed": true} -> {"realmId", "seed"}
GET  /_sandbox/realms/<id>                 options + entity counts
POST /_sandbox/realms/<id>/options         change options (rate limits, cdc_cap, throttle_format, ...)
POST /_sandbox/realms/<id>/seed            seed the staffing company into a realm created with seed=false
POST /_sandbox/realms/<id>/faults          fault-injection settings (see chaos.py); GET shows them
POST /_sandbox/oauth/faults                the same for the token endpoint
POST /_sandbox/realms/<id>/webhooks        {"url", "verifier_token", "format": "legacy"|"cloudevents"}
POST /_sandbox/realms/<id>/merge           {"entity": "Customer", "from", "into"}: the UI's customer merge
POST /_sandbox/realms/<id>/exchangerates   {"currency", "date", "rate"}
GET  /_sandbox/realms/<id>/exchangegains   realized exchange gain/loss per payment (what QBO posts to its
                                           "Exchange Gain or Loss" account; entities/payment.py)
GET  /_sandbox/realms/<id>/stats           request counts, 429s, injected faults, webhooks, entity counts
GET  /_sandbox/stats                       stats of every realm
POST /_sandbox/apps                        {"redirect_uris": [...], "default_realm"} -> client_id/secret
POST /_sandbox/tokens                      {"realm_id", "client_id"} -> a token pair (no redirect dance)
GET  /_sandbox/clock, POST /_sandbox/clock {"speed"}, POST /_sandbox/clock/advance {"seconds"|"days"...}
POST /_sandbox/webhooks/flush              wait until queued webhook deliveries were attempted
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from werkzeug.wrappers import Request, Response

from .util import dumps, loads


def _json(status: int, obj) -> Response:
	return Response(dumps(obj), status=status, content_type="application/json")


def realm_stats(realm) -> dict:
	with realm.lock:
		out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in realm.stats.items()}
		out["entities"] = realm.counts()
	return out


def exchange_gains(realm) -> dict:
	"""Each live foreign-currency payment's realized exchange gain (+) or loss (-) in home currency, with the
	lines it comes from, and their total: a report-like view of QBO's "Exchange Gain or Loss" postings (no
	QBO API returns them per payment; a test reads the sandbox's books here)."""
	rows, total = [], Decimal("0.00")
	for pay in sorted(realm.live("Payment"), key=lambda r: int(r.id)):
		if pay.extra.get("voided") or (pay.data.get("CurrencyRef") or {}).get("value") == realm.home_currency:
			continue
		gain = pay.extra.get("exchange_gain_loss", Decimal("0.00"))
		total += gain
		rows.append({"Id": pay.id, "TxnDate": pay.data.get("TxnDate"), "CurrencyRef": pay.data.get("CurrencyRef"),
			"ExchangeRate": pay.data.get("ExchangeRate"), "TotalAmt": pay.data.get("TotalAmt"),
			"HomeTotalAmt": pay.data.get("HomeTotalAmt"), "ExchangeGainLoss": gain,
			"Lines": pay.extra.get("exchange_lines")})
	return {"HomeCurrency": realm.home_currency, "Payments": rows, "Total": total}


def handle(app, req: Request) -> Response:
	state = app.state
	parts = [p for p in req.path.split("/") if p][1:]
	try:
		body = loads(req.get_data()) if req.get_data() else {}
	except ValueError:
		return _json(400, {"error": "malformed JSON"})
	body = body or {}
	method = req.method
	try:
		if parts == ["realms"]:
			if method == "GET":
				return _json(200, {"realms": list(state.realms)})
			options = body.get("options", {k: v for k, v in body.items() if k not in ("seed", "realm_id")})
			rid = state.create_realm(options, seed=body.get("seed", True), realm_id=body.get("realm_id"))
			return _json(200, {"realmId": rid, "seed": state.seeds.get(rid)})
		if len(parts) >= 2 and parts[0] == "realms":
			realm = state.realm(parts[1])
			if realm is None:
				return _json(404, {"error": f"unknown realm {parts[1]}"})
			sub = parts[2] if len(parts) > 2 else ""
			if sub == "" and method == "GET":
				return _json(
					200,
					{
						"realmId": realm.id,
						"options": realm.options.to_dict(),
						"entities": realm.counts(),
						"seed": state.seeds.get(realm.id),
					},
				)
			if sub == "options":
				return _json(200, state.set_options(realm.id, body))
			if sub == "seed" and method == "POST":
				from .seed import seed_staffing_company

				with realm.lock:
					if realm.get("Account", "1") is not None:
						return _json(409, {"error": "realm already seeded"})
					realm.records.pop("Preferences", None)
					realm.records.pop("CompanyInfo", None)
					state.seeds[realm.id] = seed_staffing_company(realm, state.clock.now())
				return _json(200, {"realmId": realm.id, "seed": state.seeds[realm.id]})
			if sub == "faults":
				if method == "GET":
					return _json(200, dict(realm.faults.config))
				return _json(200, realm.faults.configure(body))
			if sub == "webhooks":
				state.configure_webhook(
					realm.id, body.get("url"), body.get("verifier_token", ""), body.get("format", "legacy")
				)
				return _json(200, {"webhook": realm.webhook})
			if sub == "exchangerates":
				from .rates import set_rate

				with realm.lock:
					set_rate(
						realm,
						str(body["currency"]),
						date.fromisoformat(body["date"]),
						Decimal(str(body["rate"])),
					)
				return _json(200, {"ok": True})
			if sub == "exchangegains" and method == "GET":
				with realm.lock:
					return _json(200, exchange_gains(realm))
			if sub == "merge" and method == "POST":
				from .merge import merge_names
				from .service import WriteContext

				from .faults import SandboxFault

				with realm.lock:
					ctx = WriteContext(realm, state.clock.now())
					try:
						merged = merge_names(realm, str(body.get("entity", "Customer")), str(body["from"]), str(body["into"]), ctx)
					except SandboxFault as fault:
						return _json(400, {"error": str(fault)})
				state.webhooks.emit(realm, ctx.events)
				return _json(200, {body.get("entity", "Customer"): merged})
			if sub == "stats":
				return _json(200, realm_stats(realm))
		if parts == ["oauth", "faults"]:
			if method == "GET":
				return _json(200, dict(state.oauth_faults.config))
			return _json(200, state.oauth_faults.configure(body))
		if parts == ["stats"]:
			return _json(200, {rid: realm_stats(r) for rid, r in state.realms.items()})
		if parts == ["apps"] and method == "POST":
			app_obj = state.auth.register_app(
				body.get("redirect_uris") or [],
				body.get("default_realm"),
				body.get("client_id"),
				body.get("client_secret"),
			)
			return _json(
				200,
				{
					"client_id": app_obj.client_id,
					"client_secret": app_obj.client_secret,
					"redirect_uris": app_obj.redirect_uris,
					"default_realm": app_obj.default_realm,
				},
			)
		if parts == ["tokens"] and method == "POST":
			tokens = state.auth.issue_direct(str(body["realm_id"]), str(body["client_id"]), state.clock.now())
			return _json(200, tokens)
		if parts == ["clock"]:
			if method == "POST" and "speed" in body:
				state.clock.set_speed(float(body["speed"]))
			return _json(200, {"now": state.clock.now().isoformat(), "speed": state.clock.speed})
		if parts == ["clock", "advance"] and method == "POST":
			seconds = (
				float(body.get("seconds", 0))
				+ 60 * float(body.get("minutes", 0))
				+ 3600 * float(body.get("hours", 0))
				+ 86400 * float(body.get("days", 0))
			)
			now = state.clock.advance(seconds)
			return _json(200, {"now": now.isoformat(), "speed": state.clock.speed})
		if parts == ["webhooks", "flush"] and method == "POST":
			return _json(200, {"flushed": state.webhooks.flush(float(body.get("timeout", 5)))})
	except (KeyError, ValueError, TypeError) as exc:
		return _json(400, {"error": str(exc)})
	return _json(404, {"error": f"unknown admin endpoint {req.path}"})
