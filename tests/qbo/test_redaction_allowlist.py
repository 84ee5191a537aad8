"""Audit redaction is an allow-list (issue 8): whatever is not known to be safe is dropped, so a secret under
an unexpected name, in a form body, in XML or in a body that does not parse never reaches an audit row.
Token-bearing objects print redacted (tracebacks with locals print them)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from nexora_qbo.qbo.endpoints import resolve_endpoints
from nexora_qbo.qbo.exchange import path_and_query, redact_text
from nexora_qbo.qbo.oauth import OAuthApp, OAuthTokens, TokenManager, thread_lock_factory

SECRET = "AB11700000000000000secretrefreshtokenvalue"


@pytest.mark.parametrize(
	"key",
	[
		"accessToken",
		"refreshToken",
		"RefreshToken",
		"AccessToken",
		"clientSecret",
		"ClientSecret",
		"id_token",
		"idToken",
		"api_key",
		"Authorization",
		"x-api-key",
		"token",
		"Password",
		"session_cookie",
	],
)
def test_json_keys_not_allowed_are_dropped(key):
	out = json.loads(redact_text(json.dumps({key: SECRET, "Nested": {key: SECRET}, "List": [{key: SECRET}]})))
	assert SECRET not in json.dumps(out)


def test_qbo_entity_bodies_pass():
	body = {
		"Invoice": {
			"Id": "130",
			"SyncToken": "3",
			"CustomerRef": {"value": "58", "name": "Acme"},
			"Line": [{"Amount": 100.1, "DetailType": "SalesItemLineDetail"}],
			"MetaData": {"LastUpdatedTime": "2026-11-24T12:00:00-08:00"},
		},
		"time": "2026-11-24T12:00:01.000-08:00",
	}
	assert json.loads(redact_text(json.dumps(body))) == body


def test_qbo_fault_code_passes_but_an_authorization_code_does_not():
	fault = {
		"Fault": {"Error": [{"Message": "Stale", "Detail": "d", "code": "5010"}], "type": "ValidationFault"}
	}
	assert json.loads(redact_text(json.dumps(fault))) == fault
	assert "Q0115" not in redact_text(json.dumps({"code": "Q011569.......authorization-code-value"}))


def test_unknown_lowercase_keys_are_dropped():
	assert json.loads(redact_text('{"something_new": "x", "token_type": "bearer"}')) == {
		"something_new": "[REDACTED]",
		"token_type": "bearer",
	}


def test_form_bodies_keep_only_allowed_fields():
	form = f"grant_type=authorization_code&code=Q0-auth&redirect_uri=https%3A%2F%2Fx&client_assertion={SECRET}&refreshToken={SECRET}"
	out = redact_text(form)
	assert SECRET not in out and "Q0-auth" not in out
	assert "grant_type=authorization_code" in out and "redirect_uri=" in out


def test_xml_elements_and_attributes():
	xml = (
		'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3"><Fault type="AUTHENTICATION">'
		f'<Error code="3200" token="{SECRET}"><Message>message</Message><accessToken>{SECRET}</accessToken>'
		f"<RefreshToken>{SECRET}</RefreshToken></Error></Fault></IntuitResponse>"
	)
	out = redact_text(xml)
	assert SECRET not in out
	assert 'code="3200"' in out and "<Message>message</Message>" in out


@pytest.mark.parametrize(
	"body",
	[
		f'{{"refresh_token": "{SECRET}", "token_type": "bearer",',  # truncated
		f"{{'refresh_token': '{SECRET}'}}",  # not JSON at all
		f'{{"refreshToken":"{SECRET}" "x": 1}}',
		f"upstream said: refresh_token={SECRET}",
		"Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
	],
)
def test_malformed_bodies_and_free_text(body):
	out = redact_text(body)
	assert SECRET not in out and "eyJzdWIiOi" not in out


def test_urls_keep_only_known_query_fields():
	assert path_and_query(
		"https://h/v3/company/1/cdc?entities=Customer&changedSince=2026-11-24&minorversion=75"
	) == ("/v3/company/1/cdc?entities=Customer&changedSince=2026-11-24&minorversion=75")
	assert SECRET not in path_and_query(f"https://h/v3/company/1/query?query=select&access_token={SECRET}")


def test_token_objects_print_redacted():
	now = datetime.now(timezone.utc)
	tokens = OAuthTokens(access_token="at-" + SECRET, refresh_token=SECRET, expires_at=now, realm_id="1")
	app = OAuthApp("client", "client-secret-value", "https://cb", resolve_endpoints("sandbox"))
	manager = TokenManager(app, "1", store=None, lock_factory=thread_lock_factory())
	for obj in (tokens, app, manager, [tokens], {"t": tokens}):
		text = repr(obj)
		assert SECRET not in text and "client-secret-value" not in text
	assert "realm_id='1'" in repr(tokens) and "[REDACTED]" in repr(tokens)
	assert tokens.to_dict()["refresh_token"] == SECRET  # the stored form is unchanged
