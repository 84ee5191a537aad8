"""Where each environment lives. The local sandbox ("custom") serves every URL under one base."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import constants as C


@dataclass(frozen=True)
class Endpoints:
	api_base_url: str
	authorize_url: str
	token_url: str
	revoke_url: str


def resolve_endpoints(environment: str, custom_base_url: str | None = None) -> Endpoints:
	"""production | sandbox use Intuit's URLs; custom derives all four from `custom_base_url`.

	A custom http:// base is accepted only for loopback hosts: OAuth over plain http anywhere else
	would leak the client secret and tokens.
	"""
	if environment == "production":
		return Endpoints(C.PRODUCTION_BASE_URL, C.AUTHORIZE_URL, C.TOKEN_URL, C.REVOKE_URL)
	if environment == "sandbox":
		return Endpoints(C.SANDBOX_BASE_URL, C.AUTHORIZE_URL, C.TOKEN_URL, C.REVOKE_URL)
	if environment == "custom":
		if not custom_base_url:
			raise ValueError("environment 'custom' needs custom_base_url")
		base = custom_base_url.rstrip("/")
		parts = urlsplit(base)
		if parts.scheme not in ("http", "https") or not parts.hostname:
			raise ValueError(f"custom_base_url must be an http(s) URL, got {custom_base_url!r}")
		if parts.scheme == "http" and not is_loopback_host(parts.hostname):
			raise ValueError("plain http is allowed only for loopback hosts (127.0.0.1, ::1, localhost)")
		return Endpoints(
			api_base_url=base,
			authorize_url=base + C.CUSTOM_AUTHORIZE_PATH,
			token_url=base + C.CUSTOM_TOKEN_PATH,
			revoke_url=base + C.CUSTOM_REVOKE_PATH,
		)
	raise ValueError(f"unknown QBO environment {environment!r}; expected one of {C.ENVIRONMENTS}")


def is_loopback_host(host: str | None) -> bool:
	if not host:
		return False
	if host.lower() == "localhost":
		return True
	try:
		return ipaddress.ip_address(host.strip("[]")).is_loopback
	except ValueError:
		return False


def is_loopback_http(url: str) -> bool:
	parts = urlsplit(url)
	return parts.scheme == "http" and is_loopback_host(parts.hostname)
