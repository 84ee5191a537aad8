"""OAuth 2.0 (qbo-api.md §7): authorize redirect, code exchange, rotation with grace, revoke, 401/403."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import requests

from sandbox_testkit import Api

REDIRECT = "https://app.example/qbo/callback"


def basic(client_id, secret):
	return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_call(server, client_id, secret, hard=False, **form):
	headers = {"Authorization": basic(client_id, secret), "Accept": "application/json"}
	if hard:
		headers["x-include-refresh-token-hard-expires-in"] = "true"
	return requests.post(server.base_url + "/oauth2/v1/tokens/bearer", data=form, headers=headers)


def authorize(server, client_id, **params):
	query = {
		"client_id": client_id,
		"response_type": "code",
		"scope": "com.intuit.quickbooks.accounting",
		"redirect_uri": REDIRECT,
		"state": "st-123",
		**params,
	}
	return requests.get(server.base_url + "/oauth2/authorize", params=query, allow_redirects=False)


def test_authorize_redirects_with_code_state_and_realm(server):
	r1, r2 = server.create_realm(seed=False), server.create_realm(seed=False)
	client_id, secret = server.register_app(redirect_uri=REDIRECT, default_realm=r1)
	resp = authorize(server, client_id)
	assert resp.status_code == 302
	loc = urlparse(resp.headers["Location"])
	assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
	q = {k: v[0] for k, v in parse_qs(loc.query).items()}
	assert q["state"] == "st-123" and q["realmId"] == r1 and q["code"]
	chosen = parse_qs(urlparse(authorize(server, client_id, realmId=r2).headers["Location"]).query)
	assert chosen["realmId"] == [r2]
	assert authorize(server, client_id, redirect_uri="https://evil.example/cb").status_code == 400
	tok = token_call(
		server, client_id, secret, grant_type="authorization_code", code=q["code"], redirect_uri=REDIRECT
	)
	assert tok.status_code == 200 and set(tok.json()) == {
		"access_token",
		"refresh_token",
		"token_type",
		"expires_in",
		"x_refresh_token_expires_in",
	}
	api = Api(server, r1, tokens=tok.json())
	assert api.ok("GET", "/preferences")["Preferences"]["Id"] == "1"
	again = token_call(
		server, client_id, secret, grant_type="authorization_code", code=q["code"], redirect_uri=REDIRECT
	)
	assert again.status_code == 400 and again.json()["error"] == "invalid_grant"  # codes are single-use
	assert (
		token_call(server, client_id, "wrong", grant_type="authorization_code", code="x").status_code == 401
	)


def test_admin_endpoints_register_apps_and_issue_tokens(server):
	made = requests.post(
		server.base_url + "/_sandbox/realms", json={"options": {"multicurrency": True}}
	).json()
	app = requests.post(
		server.base_url + "/_sandbox/apps",
		json={"redirect_uris": [REDIRECT], "default_realm": made["realmId"]},
	).json()
	tokens = requests.post(
		server.base_url + "/_sandbox/tokens",
		json={"realm_id": made["realmId"], "client_id": app["client_id"]},
	).json()
	api = Api(server, made["realmId"], tokens=tokens)
	assert api.ok("GET", "/preferences")["Preferences"]["CurrencyPrefs"]["MultiCurrencyEnabled"] is True
	assert made["realmId"] in requests.get(server.base_url + "/_sandbox/realms").json()["realms"]


def test_refresh_rotation_grace_period_then_invalid_grant(server):
	realm = server.create_realm(seed=False)  # default grace: 24 h of sandbox time
	client_id, secret = server.register_app(redirect_uri=REDIRECT)
	first = server.issue_tokens(realm, client_id)
	second = token_call(
		server, client_id, secret, grant_type="refresh_token", refresh_token=first["refresh_token"]
	).json()
	assert (
		second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
	)
	server.advance_clock(hours=23)
	within = token_call(
		server, client_id, secret, grant_type="refresh_token", refresh_token=first["refresh_token"]
	)
	assert within.status_code == 200  # the superseded token still works inside the grace period...
	assert within.json()["refresh_token"] not in (
		first["refresh_token"],
		second["refresh_token"],
	)  # ...new pair
	server.advance_clock(hours=2)
	dead = token_call(
		server, client_id, secret, grant_type="refresh_token", refresh_token=first["refresh_token"]
	)
	assert dead.status_code == 400 and dead.json() == {
		"error_description": "Token invalid",
		"error": "invalid_grant",
	}
	latest = token_call(
		server, client_id, secret, grant_type="refresh_token", refresh_token=within.json()["refresh_token"]
	)
	assert latest.status_code == 200


def test_zero_grace_and_hard_expiry_header(server):
	realm = server.create_realm(seed=False, refresh_grace_seconds=0)
	client_id, secret = server.register_app(redirect_uri=REDIRECT)
	first = server.issue_tokens(realm, client_id)
	plain = token_call(
		server, client_id, secret, grant_type="refresh_token", refresh_token=first["refresh_token"]
	)
	assert "x_refresh_token_hard_expires_in" not in plain.json()
	server.advance_clock(seconds=1)
	assert (
		token_call(
			server, client_id, secret, grant_type="refresh_token", refresh_token=first["refresh_token"]
		).status_code
		== 400
	)
	hard = token_call(
		server,
		client_id,
		secret,
		hard=True,
		grant_type="refresh_token",
		refresh_token=plain.json()["refresh_token"],
	)
	body = hard.json()
	assert body["x_refresh_token_hard_expires_in"] > 4 * 365 * 86400
	assert body["expires_in"] == 3600 and body["x_refresh_token_expires_in"] == 8726400


def test_expired_unknown_and_revoked_tokens_get_401(server):
	realm = server.create_realm(seed=False)
	client_id, secret = server.register_app(redirect_uri=REDIRECT)
	tokens = server.issue_tokens(realm, client_id)
	api = Api(server, realm, tokens=tokens)
	assert api.call("GET", "/preferences").status_code == 200
	server.advance_clock(seconds=3601)
	resp = api.call("GET", "/preferences")
	assert resp.status_code == 401 and resp.json()["fault"]["error"][0]["detail"].startswith(
		"Token expired: "
	)
	assert resp.headers["Www-Authenticate"] == 'Bearer realm="Intuit", error="invalid_token"'
	fresh = server.issue_tokens(realm, client_id)
	api = Api(server, realm, tokens=fresh)
	revoke = requests.post(
		server.base_url + "/oauth2/v1/tokens/revoke",
		json={"token": fresh["refresh_token"]},
		headers={"Authorization": basic(client_id, secret), "Accept": "application/json"},
	)
	assert revoke.status_code == 200
	assert api.call("GET", "/preferences").status_code == 401
	assert (
		token_call(
			server, client_id, secret, grant_type="refresh_token", refresh_token=fresh["refresh_token"]
		).status_code
		== 400
	)
	no_header = requests.get(f"{server.base_url}/v3/company/{realm}/preferences")
	assert no_header.status_code == 401 and no_header.json()["fault"]["type"] == "AUTHENTICATION"


def test_tokens_are_bound_to_one_realm_and_realms_are_isolated(server):
	a, b = server.create_realm(), server.create_realm()
	api_a, api_b = Api(server, a), Api(server, b)
	cross = Api(server, b, tokens=api_a.tokens).call("GET", "/customer/1")
	assert cross.status_code == 403
	assert cross.json()["Fault"]["type"] == "AuthorizationFault"
	made = api_a.create("Customer", {"DisplayName": "Only In A"})
	assert api_b.query("SELECT * FROM Customer WHERE DisplayName = 'Only In A'") == {}
	same_name = api_b.create("Customer", {"DisplayName": "Only In A"})  # no cross-realm uniqueness
	assert same_name["Id"] == made["Id"]  # ids are per realm
	api_a.update("Customer", {"Id": made["Id"], "SyncToken": "0", "sparse": True, "Notes": "a"})
	assert api_b.read("Customer", same_name["Id"])["SyncToken"] == "0"


def test_lost_refresh_answer_is_recoverable_within_grace(server):
	realm = server.create_realm(seed=False)
	client_id, secret = server.register_app(redirect_uri=REDIRECT)
	first = server.issue_tokens(realm, client_id)
	server.set_oauth_faults(script=["lost_response"])
	try:
		token_call(
			server, client_id, secret, grant_type="refresh_token", refresh_token=first["refresh_token"]
		)
		raise AssertionError("the answer should have been lost")
	except requests.ConnectionError:
		pass
	retry = token_call(
		server, client_id, secret, grant_type="refresh_token", refresh_token=first["refresh_token"]
	)
	assert retry.status_code == 200  # the superseded token is still inside its grace period
	server.advance_clock(hours=25)
	assert (
		token_call(
			server, client_id, secret, grant_type="refresh_token", refresh_token=first["refresh_token"]
		).status_code
		== 400
	)
