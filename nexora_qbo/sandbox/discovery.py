"""What a newcomer or a standard OAuth library reads first: the OpenID discovery document and the `GET /` page.

QBO publishes its endpoints in a discovery document (qbo-api.md §7: `/.well-known/openid_configuration/`,
sandbox `/.well-known/openid_sandbox_configuration/`); OAuth client libraries read it before anything else.
The sandbox serves one at both paths whose endpoints are the sandbox's own, so a library pointed at it never
reaches Intuit. It lists only what the sandbox serves: no `userinfo_endpoint` (not modelled), and a JWKS with
no keys because the sandbox issues no `id_token`.
"""

from __future__ import annotations

from html import escape

DISCOVERY_PATHS = (
	"/.well-known/openid_configuration",
	"/.well-known/openid_sandbox_configuration",
)
JWKS_PATH = "/op/v1/jwks"
AUTHORIZE_PATH = "/oauth2/authorize"
TOKEN_PATH = "/oauth2/v1/tokens/bearer"
REVOKE_PATH = "/oauth2/v1/tokens/revoke"
TOKEN_SHORTCUT_PATH = "/_sandbox/tokens"
# §7 scopes (the sandbox grants any of them; only accounting is meaningful here)
SCOPES = (
	"com.intuit.quickbooks.accounting",
	"com.intuit.quickbooks.payment",
	"openid",
	"profile",
	"email",
	"phone",
	"address",
)


def discovery_document(base_url: str) -> dict:
	return {
		"issuer": base_url,
		"authorization_endpoint": base_url + AUTHORIZE_PATH,
		"token_endpoint": base_url + TOKEN_PATH,
		"revocation_endpoint": base_url + REVOKE_PATH,
		"jwks_uri": base_url + JWKS_PATH,
		"response_types_supported": ["code"],
		"grant_types_supported": ["authorization_code", "refresh_token"],
		"subject_types_supported": ["public"],
		"id_token_signing_alg_values_supported": ["RS256"],
		"scopes_supported": list(SCOPES),
		# auth.Authority: HTTP Basic, with form fields accepted as a fallback
		"token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
	}


def landing_page(base_url: str, realm_ids: list[str]) -> str:
	"""Plain HTML: what this server is, its realms, and the two ways to a token (with curl)."""
	realm = realm_ids[0] if realm_ids else "<realm>"
	b = escape(base_url)
	realms = "".join(f"<li><code>{escape(r)}</code></li>" for r in realm_ids) or "<li>none yet</li>"
	return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Nexora QBO sandbox</title></head>
<body>
<h1>Nexora QBO sandbox</h1>
<p>A local server that answers the QuickBooks Online Accounting API v3 as QBO does, for tests, demos and
training. Nothing here reaches Intuit. Point a QBO client at <code>{b}</code> as its base URL
(<code>{b}/v3/company/&lt;realmId&gt;/...</code>).</p>
<h2>Companies (realms)</h2><ul>{realms}</ul>
<h2>Get an access token</h2>
<p>Shortcut (no browser): register an app, then ask for a token pair.</p>
<pre>curl -s -X POST {b}/_sandbox/apps -H 'Content-Type: application/json' \\
     -d '{{"redirect_uris": ["http://127.0.0.1/cb"]}}'
curl -s -X POST {b}{TOKEN_SHORTCUT_PATH} -H 'Content-Type: application/json' \\
     -d '{{"realm_id": "{escape(realm)}", "client_id": "&lt;client_id&gt;"}}'</pre>
<p>Or the OAuth 2.0 code flow, as with QBO: <code>{b}{AUTHORIZE_PATH}?client_id=...&amp;response_type=code&amp;
scope=com.intuit.quickbooks.accounting&amp;redirect_uri=...&amp;state=...&amp;realmId={escape(realm)}</code>
redirects with a <code>code</code>; exchange it at <code>{b}{TOKEN_PATH}</code> (HTTP Basic client_id:secret,
<code>grant_type=authorization_code</code>). OAuth libraries find these endpoints in
<a href="{b}{DISCOVERY_PATHS[0]}">{DISCOVERY_PATHS[0]}</a>.</p>
<h2>Then</h2>
<pre>curl -s -X POST {b}/v3/company/{escape(realm)}/customer -H "Authorization: Bearer $TOKEN" \\
     -H 'Content-Type: application/json' -H 'Accept: application/json' -d '{{"DisplayName": "Jane Doe"}}'
curl -s -G {b}/v3/company/{escape(realm)}/query -H "Authorization: Bearer $TOKEN" \\
     -H 'Accept: application/json' --data-urlencode "query=select * from Customer"</pre>
<p>The walkthrough (authorize, token, create, query, CDC) is in the sandbox README
(<code>nexora_qbo/sandbox/README.md</code>).</p>
</body></html>
"""
