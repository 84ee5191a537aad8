"""SQLite reference implementation of the Store port (and the database the SQLite ledger shares).

On disk, WAL, `BEGIN IMMEDIATE` transactions and a busy timeout, so several worker processes can share one
file and a SIGKILLed worker leaves nothing half-written. The ledger (sqlite_ledger.py) uses the SAME
connection so that a local document and its outbox intent commit in one transaction. Audit rows go to a
separate database file (`<path>-audit.db`) through their own autocommit connection: they persist at once,
even when the surrounding transaction rolls back (SQLite has one writer per file, so an autonomous write into
the main file would wait on our own open transaction).
"""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from datetime import date, datetime, timezone
from typing import Any

from nexora_qbo.sync import records as R
from nexora_qbo.sync.ports import AuditRow, Conflict, Cursor, Mapping, OutboxEntry, RealmSettings, SyncEvent

SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_reference (
	realm_id TEXT NOT NULL, ref_type TEXT NOT NULL, qbo_id TEXT NOT NULL, name TEXT, full_name TEXT,
	active INTEGER NOT NULL DEFAULT 1, detail TEXT, PRIMARY KEY (realm_id, ref_type, qbo_id)
);
CREATE TABLE IF NOT EXISTS sync_settings (
	realm_id TEXT PRIMARY KEY, company TEXT NOT NULL UNIQUE, data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sync_mapping (
	realm_id TEXT NOT NULL, local_type TEXT NOT NULL, local_id TEXT NOT NULL,
	qbo_entity TEXT NOT NULL, qbo_id TEXT NOT NULL, sync_token TEXT, base TEXT,
	last_sent_hash TEXT, remote_hash TEXT, status TEXT NOT NULL, updated_at TEXT,
	PRIMARY KEY (realm_id, local_type, local_id),
	UNIQUE (realm_id, qbo_entity, qbo_id)
);
CREATE TABLE IF NOT EXISTS sync_cursor (realm_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sync_outbox (
	id INTEGER PRIMARY KEY AUTOINCREMENT, realm_id TEXT NOT NULL, local_type TEXT NOT NULL,
	local_id TEXT NOT NULL, action TEXT NOT NULL, generation INTEGER NOT NULL, state TEXT NOT NULL,
	attempts INTEGER NOT NULL, next_attempt_at TEXT, last_error TEXT, created_at TEXT, updated_at TEXT,
	conflict_id TEXT
);
CREATE INDEX IF NOT EXISTS sync_outbox_realm ON sync_outbox (realm_id, state);
CREATE INDEX IF NOT EXISTS sync_outbox_doc ON sync_outbox (realm_id, local_type, local_id);
CREATE TABLE IF NOT EXISTS sync_event (
	id INTEGER PRIMARY KEY AUTOINCREMENT, realm_id TEXT NOT NULL, timestamp TEXT, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sync_event_realm ON sync_event (realm_id, timestamp);
CREATE TABLE IF NOT EXISTS sync_conflict (
	id INTEGER PRIMARY KEY AUTOINCREMENT, realm_id TEXT NOT NULL, local_type TEXT, local_id TEXT,
	status TEXT NOT NULL, created_at TEXT, data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sync_conflict_realm ON sync_conflict (realm_id, status);
"""


# one AR tie-out per realm and day (Store.save_tie_out: re-running a day replaces it)
TIE_OUT_SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_tie_out (
	realm_id TEXT NOT NULL, as_of TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (realm_id, as_of)
);
"""


AUDIT_SCHEMA = """
CREATE TABLE IF NOT EXISTS sync_audit (
	id INTEGER PRIMARY KEY AUTOINCREMENT, realm_id TEXT NOT NULL, timestamp TEXT, data TEXT NOT NULL,
	outcome TEXT, error_code TEXT
);
CREATE INDEX IF NOT EXISTS sync_audit_realm ON sync_audit (realm_id, timestamp);
"""
# outcome and error_code are columns too (not only inside `data`) so the month report counts and groups them
# in SQL; the covering index below answers it without touching a row. Databases from before the columns get
# them (and their values, from `data`) once, on open.
AUDIT_INDEX = "CREATE INDEX IF NOT EXISTS sync_audit_outcome ON sync_audit (realm_id, timestamp, outcome, error_code)"


def _dt(value: datetime | None) -> str | None:
	if value is None:
		return None
	if value.tzinfo is None:
		value = value.replace(tzinfo=timezone.utc)
	return value.astimezone(timezone.utc).isoformat()


def _pdt(value: str | None) -> datetime | None:
	return None if value is None else datetime.fromisoformat(value)


def connect(path: str) -> sqlite3.Connection:
	"""A connection tuned for several processes: WAL, busy timeout, explicit transactions."""
	conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
	conn.row_factory = sqlite3.Row
	conn.execute("PRAGMA journal_mode=WAL")
	conn.execute("PRAGMA synchronous=NORMAL")
	conn.execute("PRAGMA busy_timeout=60000")
	conn.execute("PRAGMA foreign_keys=ON")
	return conn



def _realm_window(table: str, realm_id: str, since: datetime | None, until: datetime | None) -> tuple[str, list[Any]]:
	"""SELECT of a realm's rows of `table` with since <= timestamp < until (either bound optional)."""
	sql = f"SELECT id, data FROM {table} WHERE realm_id=?"
	params: list[Any] = [realm_id]
	if since is not None:
		sql += " AND timestamp >= ?"
		params.append(_dt(since))
	if until is not None:
		sql += " AND timestamp < ?"
		params.append(_dt(until))
	return sql, params

class SqliteDB:
	"""One connection with re-entrant transactions (nesting joins the outer one)."""

	def __init__(self, path: str):
		self.path = str(path)
		self.conn = connect(self.path)
		self._lock = threading.RLock()
		self._depth = 0

	@contextmanager
	def transaction(self) -> Iterator[sqlite3.Connection]:
		with self._lock:
			if self._depth:
				self._depth += 1
				try:
					yield self.conn
				finally:
					self._depth -= 1
				return
			self.conn.execute("BEGIN IMMEDIATE")
			self._depth = 1
			try:
				yield self.conn
			except BaseException:
				self._depth = 0
				self.conn.execute("ROLLBACK")
				raise
			else:
				self._depth = 0
				self.conn.execute("COMMIT")

	def execute(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
		with self.transaction() as conn:
			return conn.execute(sql, tuple(params))

	def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
		with self._lock:
			return self.conn.execute(sql, tuple(params)).fetchall()

	def close(self) -> None:
		self.conn.close()


def _settings_to_json(s: RealmSettings) -> str:
	d = asdict(s)
	if isinstance(d.get("sync_start_date"), date):
		d["sync_start_date"] = d["sync_start_date"].isoformat()
	return R.dumps(d)


def _settings_from_json(text: str) -> RealmSettings:
	d = R.loads(text)
	if d.get("sync_start_date"):
		d["sync_start_date"] = date.fromisoformat(d["sync_start_date"])
	known = {f.name for f in fields(RealmSettings)}
	return RealmSettings(**{k: v for k, v in d.items() if k in known})


class SqliteStore:
	"""The Store port on SQLite. `db` may be shared with a SqliteLedger (same file, same connection)."""

	def __init__(self, path_or_db: str | SqliteDB, audit_path: str | None = None):
		self.db = path_or_db if isinstance(path_or_db, SqliteDB) else SqliteDB(path_or_db)
		self.db.conn.executescript(SCHEMA)
		self._add_mapping_origin()
		self.db.conn.executescript(TIE_OUT_SCHEMA)
		# Audit rows live in their own database file with their own connection in autocommit mode: SQLite has
		# one writer per file, so an autonomous write to the main file would wait for our own open
		# transaction. A separate file makes every audit row durable at once, whatever happens around it.
		self.audit_path = audit_path or (self.db.path + "-audit.db")
		self._audit_conn = connect(self.audit_path)
		self._audit_conn.executescript(AUDIT_SCHEMA)
		self._add_audit_columns()
		self._audit_lock = threading.Lock()

	def _add_mapping_origin(self) -> None:
		"""Mapping.origin came later: add the column to databases created before it (None = unknown)."""
		cols = {r["name"] for r in self.db.query("PRAGMA table_info(sync_mapping)")}
		if "origin" not in cols:
			self.db.execute("ALTER TABLE sync_mapping ADD COLUMN origin TEXT")

	def close(self) -> None:
		self._audit_conn.close()
		self.db.close()

	def transaction(self):
		return _nullyield(self.db.transaction())

	# QBO reference lists -------------------------------------------------------------------------------
	def save_references(self, realm_id: str, ref_type: str, rows: list[dict]) -> None:
		with self.db.transaction() as conn:
			conn.execute("UPDATE sync_reference SET active=0 WHERE realm_id=? AND ref_type=?", (realm_id, ref_type))
			for r in rows:
				conn.execute(
					"INSERT INTO sync_reference (realm_id, ref_type, qbo_id, name, full_name, active, detail) "
					"VALUES (?,?,?,?,?,?,?) ON CONFLICT(realm_id, ref_type, qbo_id) DO UPDATE SET name=excluded.name, "
					"full_name=excluded.full_name, active=excluded.active, detail=excluded.detail",
					(realm_id, ref_type, str(r["qbo_id"]), r.get("name"), r.get("full_name") or r.get("name"),
						1 if r.get("active", True) else 0, r.get("detail")),
				)

	def list_references(self, realm_id: str, ref_type: str | None = None) -> list[dict]:
		sql = "SELECT * FROM sync_reference WHERE realm_id=?"
		args: tuple = (realm_id,)
		if ref_type:
			sql, args = sql + " AND ref_type=?", (realm_id, ref_type)
		rows = self.db.query(sql + " ORDER BY ref_type, name, qbo_id", args)
		return [{"ref_type": r["ref_type"], "qbo_id": r["qbo_id"], "name": r["name"], "full_name": r["full_name"],
			"active": bool(r["active"]), "detail": r["detail"]} for r in rows]

	# settings ---------------------------------------------------------------------------------------------
	def get_settings(self, realm_id: str) -> RealmSettings | None:
		rows = self.db.query("SELECT data FROM sync_settings WHERE realm_id=?", (realm_id,))
		return _settings_from_json(rows[0]["data"]) if rows else None

	def save_settings(self, settings: RealmSettings) -> None:
		with self.db.transaction() as conn:
			row = conn.execute("SELECT realm_id FROM sync_settings WHERE company=?", (settings.company,)).fetchone()
			if row and row["realm_id"] != settings.realm_id:
				raise ValueError(f"company {settings.company!r} is already connected to realm {row['realm_id']}")
			conn.execute(
				"INSERT INTO sync_settings (realm_id, company, data) VALUES (?,?,?) "
				"ON CONFLICT(realm_id) DO UPDATE SET company=excluded.company, data=excluded.data",
				(settings.realm_id, settings.company, _settings_to_json(settings)),
			)

	def realm_for_company(self, company: str) -> str | None:
		rows = self.db.query("SELECT realm_id FROM sync_settings WHERE company=?", (company,))
		return rows[0]["realm_id"] if rows else None

	def list_realms(self) -> list[str]:
		return [r["realm_id"] for r in self.db.query("SELECT realm_id FROM sync_settings ORDER BY realm_id")]

	# mappings ---------------------------------------------------------------------------------------------
	@staticmethod
	def _mapping(row: sqlite3.Row) -> Mapping:
		return Mapping(
			realm_id=row["realm_id"],
			local_type=row["local_type"],
			local_id=row["local_id"],
			qbo_entity=row["qbo_entity"],
			qbo_id=row["qbo_id"],
			sync_token=row["sync_token"],
			base=R.loads(row["base"]),
			last_sent_hash=row["last_sent_hash"],
			remote_hash=row["remote_hash"],
			status=row["status"],
			updated_at=_pdt(row["updated_at"]),
			origin=row["origin"] if "origin" in row.keys() else None,
		)

	def get_mapping(self, realm_id: str, local_type: str, local_id: str) -> Mapping | None:
		rows = self.db.query(
			"SELECT * FROM sync_mapping WHERE realm_id=? AND local_type=? AND local_id=?",
			(realm_id, local_type, local_id),
		)
		return self._mapping(rows[0]) if rows else None

	def get_mapping_by_qbo(self, realm_id: str, qbo_entity: str, qbo_id: str) -> Mapping | None:
		rows = self.db.query(
			"SELECT * FROM sync_mapping WHERE realm_id=? AND qbo_entity=? AND qbo_id=?",
			(realm_id, qbo_entity, str(qbo_id)),
		)
		return self._mapping(rows[0]) if rows else None

	def save_mapping(self, m: Mapping) -> None:
		with self.db.transaction() as conn:
			row = conn.execute(
				"SELECT local_type, local_id FROM sync_mapping WHERE realm_id=? AND qbo_entity=? AND qbo_id=?",
				(m.realm_id, m.qbo_entity, str(m.qbo_id)),
			).fetchone()
			if row and (row["local_type"], row["local_id"]) != (m.local_type, m.local_id):
				raise ValueError(
					f"{m.qbo_entity} {m.qbo_id} is already mapped to {row['local_type']} {row['local_id']}"
				)
			conn.execute(
				"INSERT INTO sync_mapping (realm_id, local_type, local_id, qbo_entity, qbo_id, sync_token, base, "
				"last_sent_hash, remote_hash, status, updated_at, origin) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
				"ON CONFLICT(realm_id, local_type, local_id) DO UPDATE SET qbo_entity=excluded.qbo_entity, "
				"qbo_id=excluded.qbo_id, sync_token=excluded.sync_token, base=excluded.base, "
				"last_sent_hash=excluded.last_sent_hash, remote_hash=excluded.remote_hash, "
				"status=excluded.status, updated_at=excluded.updated_at, origin=excluded.origin",
				(
					m.realm_id,
					m.local_type,
					m.local_id,
					m.qbo_entity,
					str(m.qbo_id),
					m.sync_token,
					None if m.base is None else R.dumps(m.base),
					m.last_sent_hash,
					m.remote_hash,
					m.status,
					_dt(m.updated_at),
					m.origin,
				),
			)

	def delete_mapping(self, realm_id: str, local_type: str, local_id: str) -> None:
		self.db.execute(
			"DELETE FROM sync_mapping WHERE realm_id=? AND local_type=? AND local_id=?",
			(realm_id, local_type, local_id),
		)

	def list_mappings(self, realm_id: str, local_type: str | None = None) -> list[Mapping]:
		if local_type is None:
			rows = self.db.query("SELECT * FROM sync_mapping WHERE realm_id=? ORDER BY rowid", (realm_id,))
		else:
			rows = self.db.query(
				"SELECT * FROM sync_mapping WHERE realm_id=? AND local_type=? ORDER BY rowid", (realm_id, local_type)
			)
		return [self._mapping(r) for r in rows]

	def mapped_qbo_ids(self, realm_id: str, local_type: str) -> dict[str, str]:
		rows = self.db.query("SELECT qbo_id, status FROM sync_mapping WHERE realm_id=? AND local_type=?",
			(realm_id, local_type))
		return {str(r["qbo_id"]): r["status"] for r in rows}

	# cursor -----------------------------------------------------------------------------------------------
	def get_cursor(self, realm_id: str) -> Cursor | None:
		rows = self.db.query("SELECT data FROM sync_cursor WHERE realm_id=?", (realm_id,))
		if not rows:
			return None
		d = R.loads(rows[0]["data"])
		return Cursor(
			realm_id=realm_id,
			changed_since=_pdt(d.get("changed_since")),
			seen=dict(d.get("seen") or {}),
			last_sweep_at=_pdt(d.get("last_sweep_at")),
			updated_at=_pdt(d.get("updated_at")),
		)

	def save_cursor(self, cursor: Cursor) -> None:
		data = R.dumps(
			{
				"changed_since": _dt(cursor.changed_since),
				"seen": cursor.seen,
				"last_sweep_at": _dt(cursor.last_sweep_at),
				"updated_at": _dt(cursor.updated_at),
			}
		)
		self.db.execute(
			"INSERT INTO sync_cursor (realm_id, data) VALUES (?,?) ON CONFLICT(realm_id) DO UPDATE SET data=excluded.data",
			(cursor.realm_id, data),
		)

	# outbox -----------------------------------------------------------------------------------------------
	@staticmethod
	def _entry(row: sqlite3.Row) -> OutboxEntry:
		return OutboxEntry(
			id=str(row["id"]),
			realm_id=row["realm_id"],
			local_type=row["local_type"],
			local_id=row["local_id"],
			action=row["action"],
			generation=row["generation"],
			state=row["state"],
			attempts=row["attempts"],
			next_attempt_at=_pdt(row["next_attempt_at"]),
			last_error=row["last_error"],
			created_at=_pdt(row["created_at"]),
			updated_at=_pdt(row["updated_at"]),
			conflict_id=row["conflict_id"],
		)

	def add_outbox(self, e: OutboxEntry) -> OutboxEntry:
		cur = self.db.execute(
			"INSERT INTO sync_outbox (realm_id, local_type, local_id, action, generation, state, attempts, "
			"next_attempt_at, last_error, created_at, updated_at, conflict_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
			(
				e.realm_id,
				e.local_type,
				e.local_id,
				e.action,
				e.generation,
				e.state,
				e.attempts,
				_dt(e.next_attempt_at),
				e.last_error,
				_dt(e.created_at),
				_dt(e.updated_at),
				e.conflict_id,
			),
		)
		e.id = str(cur.lastrowid)
		return e

	def save_outbox(self, e: OutboxEntry) -> None:
		if e.id is None:
			raise ValueError("outbox entry has no id; use add_outbox")
		self.db.execute(
			"UPDATE sync_outbox SET state=?, attempts=?, next_attempt_at=?, last_error=?, updated_at=?, "
			"conflict_id=?, generation=? WHERE id=?",
			(
				e.state,
				e.attempts,
				_dt(e.next_attempt_at),
				e.last_error,
				_dt(e.updated_at),
				e.conflict_id,
				e.generation,
				int(e.id),
			),
		)

	def get_outbox(self, entry_id: str) -> OutboxEntry | None:
		rows = self.db.query("SELECT * FROM sync_outbox WHERE id=?", (int(entry_id),))
		return self._entry(rows[0]) if rows else None

	def list_outbox(
		self,
		realm_id: str,
		states: Iterable[str] | None = None,
		local_type: str | None = None,
		local_id: str | None = None,
	) -> list[OutboxEntry]:
		sql = "SELECT * FROM sync_outbox WHERE realm_id=?"
		params: list[Any] = [realm_id]
		if states is not None:
			states = list(states)
			sql += " AND state IN (%s)" % ",".join("?" * len(states))
			params += states
		if local_type is not None:
			sql += " AND local_type=?"
			params.append(local_type)
		if local_id is not None:
			sql += " AND local_id=?"
			params.append(local_id)
		return [self._entry(r) for r in self.db.query(sql + " ORDER BY id", params)]

	def max_generation(self, realm_id: str, local_type: str, local_id: str) -> int:
		rows = self.db.query(
			"SELECT MAX(generation) AS g FROM sync_outbox WHERE realm_id=? AND local_type=? AND local_id=?",
			(realm_id, local_type, local_id),
		)
		return int(rows[0]["g"] or 0)

	# audit ------------------------------------------------------------------------------------------------
	def _add_audit_columns(self) -> None:
		conn = self._audit_conn
		have = {r[1] for r in conn.execute("PRAGMA table_info(sync_audit)").fetchall()}
		if "outcome" not in have:
			conn.execute("ALTER TABLE sync_audit ADD COLUMN outcome TEXT")
			conn.execute("ALTER TABLE sync_audit ADD COLUMN error_code TEXT")
			conn.execute("UPDATE sync_audit SET outcome = json_extract(data, '$.outcome'), "
				"error_code = json_extract(data, '$.error_code')")
		conn.execute(AUDIT_INDEX)

	def append_audit(self, row: AuditRow) -> AuditRow:
		data = asdict(row)
		data.pop("id", None)
		data["timestamp"] = _dt(row.timestamp)
		with self._audit_lock:
			cur = self._audit_conn.execute(
				"INSERT INTO sync_audit (realm_id, timestamp, data, outcome, error_code) VALUES (?,?,?,?,?)",
				(row.realm_id, data["timestamp"], R.dumps(data), row.outcome,
					str(row.error_code) if row.error_code not in (None, "") else None),
			)
		row.id = str(cur.lastrowid)
		return row

	def list_audit(self, realm_id: str, since: datetime | None = None, until: datetime | None = None) -> list[AuditRow]:
		sql, params = _realm_window("sync_audit", realm_id, since, until)
		out = []
		with self._audit_lock:
			rows = self._audit_conn.execute(sql + " ORDER BY id", params).fetchall()
		for r in rows:
			d = R.loads(r["data"])
			d["timestamp"] = _pdt(d.get("timestamp"))
			out.append(AuditRow(id=str(r["id"]), **d))
		return out

	def audit_summary(self, realm_id: str, since: datetime | None = None,
			until: datetime | None = None) -> list[tuple[str, str | None, int]]:
		sql, params = _realm_window("sync_audit", realm_id, since, until)
		sql = sql.replace("SELECT id, data FROM", "SELECT outcome, error_code, COUNT(*) AS n FROM", 1)
		with self._audit_lock:
			rows = self._audit_conn.execute(sql + " GROUP BY outcome, error_code", params).fetchall()
		return sorted(((r["outcome"], r["error_code"], r["n"]) for r in rows), key=lambda t: (str(t[0]), str(t[1] or "")))

	# events -----------------------------------------------------------------------------------------------
	def add_event(self, event: SyncEvent) -> SyncEvent:
		data = asdict(event)
		data.pop("id", None)
		data["timestamp"] = _dt(event.timestamp)
		cur = self.db.execute(
			"INSERT INTO sync_event (realm_id, timestamp, data) VALUES (?,?,?)",
			(event.realm_id, data["timestamp"], R.dumps(data)),
		)
		event.id = str(cur.lastrowid)
		return event

	def list_events(self, realm_id: str, since: datetime | None = None, until: datetime | None = None) -> list[SyncEvent]:
		sql, params = _realm_window("sync_event", realm_id, since, until)
		out = []
		for r in self.db.query(sql + " ORDER BY id", params):
			d = R.loads(r["data"])
			d["timestamp"] = _pdt(d.get("timestamp"))
			out.append(SyncEvent(id=str(r["id"]), **d))
		return out

	# conflicts --------------------------------------------------------------------------------------------
	@staticmethod
	def _conflict_data(c: Conflict) -> str:
		d = asdict(c)
		d.pop("id", None)
		for k in ("created_at", "resolved_at"):
			d[k] = _dt(d[k])
		return R.dumps(d)

	@staticmethod
	def _conflict(row: sqlite3.Row) -> Conflict:
		d = R.loads(row["data"])
		for k in ("created_at", "resolved_at"):
			d[k] = _pdt(d.get(k))
		return Conflict(id=str(row["id"]), **d)

	def add_conflict(self, c: Conflict) -> Conflict:
		cur = self.db.execute(
			"INSERT INTO sync_conflict (realm_id, local_type, local_id, status, created_at, data) VALUES (?,?,?,?,?,?)",
			(c.realm_id, c.local_type, c.local_id, c.status, _dt(c.created_at), self._conflict_data(c)),
		)
		c.id = str(cur.lastrowid)
		return c

	def save_conflict(self, c: Conflict) -> None:
		if c.id is None:
			raise ValueError("conflict has no id; use add_conflict")
		self.db.execute(
			"UPDATE sync_conflict SET status=?, local_type=?, local_id=?, data=? WHERE id=?",
			(c.status, c.local_type, c.local_id, self._conflict_data(c), int(c.id)),
		)

	def get_conflict(self, conflict_id: str) -> Conflict | None:
		rows = self.db.query("SELECT * FROM sync_conflict WHERE id=?", (int(conflict_id),))
		return self._conflict(rows[0]) if rows else None

	def list_conflicts(
		self,
		realm_id: str,
		status: str | None = None,
		local_type: str | None = None,
		local_id: str | None = None,
	) -> list[Conflict]:
		sql = "SELECT * FROM sync_conflict WHERE realm_id=?"
		params: list[Any] = [realm_id]
		for col, val in (("status", status), ("local_type", local_type), ("local_id", local_id)):
			if val is not None:
				sql += f" AND {col}=?"
				params.append(val)
		return [self._conflict(r) for r in self.db.query(sql + " ORDER BY id", params)]

	# AR tie-outs ------------------------------------------------------------------------------------------
	def save_tie_out(self, realm_id: str, as_of: date, summary: dict) -> None:
		self.db.execute(
			"INSERT INTO sync_tie_out (realm_id, as_of, data) VALUES (?,?,?) "
			"ON CONFLICT(realm_id, as_of) DO UPDATE SET data=excluded.data",
			(realm_id, as_of.isoformat(), R.dumps(summary)),
		)

	def list_tie_outs(self, realm_id: str, since: date | None = None, until: date | None = None) -> list[dict]:
		sql = "SELECT data FROM sync_tie_out WHERE realm_id=?"
		params: list[Any] = [realm_id]
		if since is not None:
			sql += " AND as_of >= ?"
			params.append(since.isoformat())
		if until is not None:
			sql += " AND as_of <= ?"
			params.append(until.isoformat())
		return [R.loads(r["data"]) for r in self.db.query(sql + " ORDER BY as_of", params)]


@contextmanager
def _nullyield(cm):
	with cm:
		yield None
