"""The QBO TokenStore on the QBO Realm's Password fields, written so that a rotated refresh token survives.

The problem (invariant 6, users.md #1): Intuit rotates refresh tokens. A sync job refreshes in the middle of
its work, inside the RQ job's database transaction; if the job later fails, `execute_job` rolls that
transaction back and the new refresh token is gone while Intuit already considers the old one spent: the
connection is dead until someone reconnects by hand.

The choice: tokens are written (and read) on a **separate, autonomous database connection** that commits
on its own, before the TokenManager uses the new tokens. Alternatives considered:
- `frappe.db.commit()` in the store: commits the caller's half-done work too, breaks FrappeTestCase
  isolation and is flagged by Frappe's semgrep rules. Rejected.
- Refresh only in the job entry point and commit there: a refresh can happen anywhere (a 401 mid-run, a
  job longer than the access token's hour), so it does not cover the real cases. Rejected.
- An enqueued write: asynchronous, so the token could be used before it is stored. Rejected.

Reads go through the same autonomous connection on purpose: MariaDB runs REPEATABLE READ, so the job's own
connection would keep seeing the token it read first, and the TokenManager's "re-load inside the lock and
reuse a concurrent refresh" would then refresh again with a spent token. A fresh autonomous read sees the
latest committed tokens.

Layout on the QBO Realm: `access_token` and `refresh_token` (Password, shown masked) plus a hidden Password
field `token_state` holding the whole OAuthTokens as JSON (one atomic value: access/refresh tokens and
their expiry times always match). Plain expiry columns on the realm are for people (and the 30-day
warning); they are updated best effort on the same connection.

When the realm row is not committed yet (it is being created in the current transaction, e.g. in a test
or an OAuth callback right after the realm was inserted), the autonomous connection cannot see it; the
tokens are then written through the current transaction, since they cannot outlive the realm anyway.
MariaDB only (ERPNext's supported database); elsewhere the current connection is used.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

import frappe
from frappe.utils.password import decrypt, encrypt, get_decrypted_password, set_encrypted_password

from nexora_qbo.erpnext import constants as K

TOKEN_FIELDS = ("access_token", "refresh_token", "token_state")
_LOCK_WAIT_SECONDS = 5  # never wait long on a row the job's own transaction might hold


# --------------------------------------------------------------------------------------------------------
# the autonomous connection
# --------------------------------------------------------------------------------------------------------


class AutonomousDB:
	"""A short-lived second connection to the site database whose writes commit on their own.

	Used for what must survive the caller's rollback: rotated OAuth tokens, and realm status (last error,
	connection state) written by failing jobs. Part B's audit writer (Store.append_audit) may reuse it.
	"""

	def __init__(self):
		self._conn = None

	@staticmethod
	def available() -> bool:
		return frappe.db.db_type == "mariadb" and not frappe.flags.nexora_qbo_no_autonomous_db

	def _connect(self):
		from frappe.database import get_db

		conf = frappe.conf
		db = get_db(
			socket=conf.get("db_socket"),
			host=conf.get("db_host"),
			port=conf.get("db_port"),
			user=conf.get("db_user") or conf.get("db_name"),
			password=conf.get("db_password"),
			cur_db_name=conf.get("db_name"),
		)
		conn = db.get_connection()
		conn.autocommit(False)
		with conn.cursor() as cur:
			cur.execute("set session innodb_lock_wait_timeout = %s", (_LOCK_WAIT_SECONDS,))
		return conn

	@property
	def conn(self):
		if self._conn is None:
			self._conn = self._connect()
		return self._conn

	def query(self, sql: str, values: tuple | list = ()) -> list[tuple]:
		with self.conn.cursor() as cur:
			cur.execute(sql, values)
			return list(cur.fetchall())

	@contextmanager
	def transaction(self) -> Iterator[Any]:
		"""A cursor whose statements commit together at the end of the block (rolled back on error)."""
		conn = self.conn
		try:
			with conn.cursor() as cur:
				yield cur
			conn.commit()
		except BaseException:
			conn.rollback()
			raise

	def row_visible(self, doctype: str, name: str) -> bool:
		"""True if the row is committed (visible to a connection other than the caller's)."""
		self.conn.rollback()  # end any previous read snapshot: see the latest committed state
		return bool(self.query(f"select 1 from `tab{doctype}` where name=%s", (name,)))

	def close(self) -> None:
		if self._conn is not None:
			try:
				self._conn.close()
			finally:
				self._conn = None

	def __enter__(self):
		return self

	def __exit__(self, *exc):
		self.close()


def set_values_autonomously(doctype: str, name: str, values: dict[str, Any]) -> bool:
	"""UPDATE a committed row on an autonomous connection; fall back to the current transaction when the row
	is not committed yet or is locked by it. Returns True if the write was autonomous.

	No hooks run (like frappe.db.set_value); `modified` is left alone: these are status fields, not edits.
	"""
	values = {k: _db_value(v) for k, v in values.items()}
	if AutonomousDB.available():
		try:
			with AutonomousDB() as adb:
				if adb.row_visible(doctype, name):
					assignments = ", ".join(f"`{k}`=%s" for k in values)
					with adb.transaction() as cur:
						cur.execute(
							f"update `tab{doctype}` set {assignments} where name=%s", (*values.values(), name)
						)
					return True
		except Exception:
			frappe.logger("nexora_qbo").warning(
				f"autonomous update of {doctype} {name} failed; using the current transaction", exc_info=True
			)
	frappe.db.set_value(doctype, name, values, update_modified=False)
	return False


def _db_value(value: Any) -> Any:
	if isinstance(value, datetime):
		return to_db_datetime(value)
	return value


def _system_tz():
	import pytz
	from frappe.utils import get_system_timezone

	return pytz.timezone(get_system_timezone())


def to_db_datetime(value: datetime | None) -> datetime | None:
	"""An aware datetime (the engine's, UTC) as a Datetime column value: naive, in the site's system
	timezone, which is Frappe's convention (the desk shows and filters Datetime columns as system time, and
	`creation`/`now_datetime()` are system time). A naive value is taken as system time already."""
	if value is None:
		return None
	if value.tzinfo is None:
		return value
	return value.astimezone(_system_tz()).replace(tzinfo=None)


def from_db_datetime(value: datetime | str | None) -> datetime | None:
	"""A Datetime column value (naive system time) as an aware UTC datetime.

	In the autumn DST overlap a naive time is ambiguous; the earlier instant is chosen, so a pull cursor
	read back can only move earlier (a re-read the engine de-duplicates), never later (a skipped change)."""
	if value in (None, ""):
		return None
	if isinstance(value, str):
		value = frappe.utils.get_datetime(value)
	if value.tzinfo is not None:
		return value.astimezone(timezone.utc)
	return _system_tz().localize(value, is_dst=True).astimezone(timezone.utc)


# Earlier names of the two converters (part B's store.py imports them); same behaviour: system time in the
# database, aware UTC in Python.
to_naive_utc = to_db_datetime
to_aware_utc = from_db_datetime


# --------------------------------------------------------------------------------------------------------
# the TokenStore
# --------------------------------------------------------------------------------------------------------


def realm_name(realm_id: str) -> str | None:
	"""The QBO Realm document of a QBO realmId (the current transaction's view: it may have just set it)."""
	return frappe.db.get_value(K.REALM, {"realm_id": realm_id}, "name")


class RealmTokenStore:
	"""nexora_qbo.qbo.oauth.TokenStore: load(realm_id) / save(realm_id, tokens).

	`realm` pins the QBO Realm document (the OAuth callback knows it before realm_id is stored).
	"""

	def __init__(self, realm: str | None = None):
		self.realm = realm

	def _name(self, realm_id: str) -> str:
		name = self.realm or realm_name(realm_id)
		if not name:
			raise LookupError(f"no QBO Realm for realmId {realm_id}")
		return name

	# load -----------------------------------------------------------------------------------------------
	def load(self, realm_id: str):
		from nexora_qbo.qbo.oauth import OAuthTokens

		name = self._name(realm_id)
		state = None
		if AutonomousDB.available():
			with AutonomousDB() as adb:
				adb.conn.rollback()
				rows = adb.query(
					"select password from `__Auth` where doctype=%s and name=%s and fieldname='token_state'"
					" and encrypted=1",
					(K.REALM, name),
				)
				if rows and rows[0][0]:
					state = decrypt(rows[0][0], key=f"{K.REALM}.{name}.token_state")
		if state is None:  # not committed yet, or not MariaDB: the current transaction's view
			state = get_decrypted_password(K.REALM, name, "token_state", raise_exception=False)
		if not state:
			return None
		tokens = OAuthTokens.from_dict(json.loads(state))
		if tokens.realm_id is None:
			tokens.realm_id = realm_id
		return tokens

	# save -----------------------------------------------------------------------------------------------
	def save(self, realm_id: str, tokens) -> None:
		"""Durable before return: committed on its own connection (or with the realm's own transaction)."""
		name = self._name(realm_id)
		state = json.dumps(tokens.to_dict(), sort_keys=True, default=str)
		secrets = {
			"access_token": tokens.access_token,
			"refresh_token": tokens.refresh_token,
			"token_state": state,
		}
		columns = {
			"access_token": "*" * 10,
			"refresh_token": "*" * 10,
			"token_state": "*" * 10,
			"access_token_expires_at": to_db_datetime(tokens.expires_at),
			"refresh_token_expires_at": to_db_datetime(tokens.refresh_expires_at),
			"refresh_token_hard_expiry": to_db_datetime(tokens.refresh_hard_expires_at),
			"last_token_refresh_on": frappe.utils.now_datetime(),
		}
		if AutonomousDB.available() and self._save_autonomously(name, secrets, columns):
			return
		for fieldname, value in secrets.items():
			set_encrypted_password(K.REALM, name, value, fieldname)
		frappe.db.set_value(K.REALM, name, columns, update_modified=False)

	def _save_autonomously(self, name: str, secrets: dict[str, str], columns: dict[str, Any]) -> bool:
		with AutonomousDB() as adb:
			if not adb.row_visible(K.REALM, name):
				return False
			# 1. the secrets: __Auth rows nobody else locks; committed before anything can go wrong
			with adb.transaction() as cur:
				for fieldname, value in secrets.items():
					cur.execute(
						"insert into `__Auth` (doctype, name, fieldname, password, encrypted)"
						" values (%s, %s, %s, %s, 1) on duplicate key update password=values(password),"
						" encrypted=1",
						(K.REALM, name, fieldname, encrypt(value)),
					)
			# 2. the human-facing columns, best effort (the job's own transaction may hold the row)
			try:
				assignments = ", ".join(f"`{k}`=%s" for k in columns)
				with adb.transaction() as cur:
					cur.execute(
						f"update `tab{K.REALM}` set {assignments} where name=%s", (*columns.values(), name)
					)
			except Exception:
				frappe.logger("nexora_qbo").warning(
					f"QBO Realm {name}: token expiry columns not updated (row busy); tokens are stored",
					exc_info=True,
				)
		return True

	# disconnect -----------------------------------------------------------------------------------------
	@staticmethod
	def clear(realm: str) -> None:
		"""Forget the tokens (after a revoke or an invalid_grant), in the current transaction."""
		from frappe.utils.password import remove_encrypted_password

		for fieldname in TOKEN_FIELDS:
			remove_encrypted_password(K.REALM, realm, fieldname)
		frappe.db.set_value(
			K.REALM,
			realm,
			{
				"access_token": None,
				"refresh_token": None,
				"token_state": None,
				"access_token_expires_at": None,
				"refresh_token_expires_at": None,
				"refresh_token_hard_expiry": None,
			},
			update_modified=False,
		)
