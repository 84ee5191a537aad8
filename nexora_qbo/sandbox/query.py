"""The query language subset of qbo-api.md §3.

`SELECT * | *, f1 | COUNT(*) | f1, f2 FROM <Entity> [WHERE a op v [AND ...]] [ORDERBY f [ASC|DESC]]
[STARTPOSITION n] [MAXRESULTS n]`, ops IN = < > <= >= LIKE (only `%`), no OR (4000 QueryParserError),
STARTPOSITION is 1-based (0 → 4001), MAXRESULTS ≤ 1000 (4001), entity names case-sensitive, name lists return
only Active=true unless the WHERE mentions Active, `maxResults` in the answer is the number returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal

from . import constants as C
from . import faults as F
from .entities import SPECS
from .model import Realm
from .service import render
from .util import parse_datetime, to_decimal

TOKEN_RE = re.compile(
	r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|<>|=|<|>)"
	r"|(?P<punct>[(),*])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))"
)
OPS = {"=", "<", ">", "<=", ">=", "IN", "LIKE"}
# Queryable without a record store of their own: `SELECT * FROM ExchangeRate WHERE SourceCurrencyCode =
# 'EUR'` (§3, python-quickbooks tests/integration/test_exchangerate.py) answers from the realm's rates.
QUERY_ONLY_ENTITIES = ("ExchangeRate",)


@dataclass
class Condition:
	path: str
	op: str
	value: object


@dataclass
class Query:
	entity: str
	count: bool = False
	fields: list[str] | None = None
	where: list[Condition] = field(default_factory=list)
	order: list[tuple[str, bool]] = field(default_factory=list)
	start: int = 1
	max_results: int = C.DEFAULT_QUERY_RESULTS


def tokenize(text: str) -> list[tuple[str, str, int]]:
	tokens = []
	pos = 0
	text = text.strip().rstrip(";")
	while pos < len(text):
		if text[pos:].strip() == "":
			break
		m = TOKEN_RE.match(text, pos)
		if not m or m.end() == pos:
			bad = text[pos:].strip()[:1]
			raise F.query_parse(f'Lexical error at line 1, column {pos + 1}.  Encountered: "{bad}"')
		kind = m.lastgroup
		tokens.append((kind, m.group(kind), m.start(kind) + 1))
		pos = m.end()
	return tokens


class Parser:
	def __init__(self, text: str):
		self.tokens = tokenize(text)
		self.i = 0

	def peek(self):
		return self.tokens[self.i] if self.i < len(self.tokens) else None

	def next(self):
		tok = self.peek()
		if tok is None:
			raise F.query_parse('Encountered "<EOF>" at line 1.\nWas expecting more input.')
		self.i += 1
		return tok

	def fail(self, tok, expecting: str):
		kind, value, col = tok
		raise F.query_parse(
			f'Encountered " "{value}" "{value.upper()} "" at line 1, column {col}.\n'
			f"Was expecting:\n    {expecting} ...\n    "
		)

	def keyword(self, word: str) -> bool:
		tok = self.peek()
		if tok and tok[0] == "word" and tok[1].upper() == word:
			self.i += 1
			return True
		return False

	def expect_word(self, word: str):
		tok = self.next()
		if tok[0] != "word" or tok[1].upper() != word:
			self.fail(tok, word)

	def parse(self) -> Query:
		self.expect_word("SELECT")
		count = False
		fields = None
		tok = self.next()
		if tok[0] == "punct" and tok[1] == "*":
			# `SELECT *, Sku FROM Item` is valid QBO (§3, python-quickbooks #373/#379): `*` already
			# returns every field that has a value, so the extra names add nothing but must parse.
			while self.peek() and self.peek()[1] == ",":
				self.next()
				t = self.next()
				if t[0] != "word":
					self.fail(t, "<IDENTIFIER>")
		elif tok[0] == "word" and tok[1].upper() == "COUNT":
			for sym in ("(", "*", ")"):
				t = self.next()
				if t[1] != sym:
					self.fail(t, sym)
			count = True
		elif tok[0] == "word" and tok[1].upper() != "FROM":
			fields = [tok[1]]
			while self.peek() and self.peek()[1] == ",":
				self.next()
				t = self.next()
				if t[0] != "word":
					self.fail(t, "<IDENTIFIER>")
				fields.append(t[1])
		else:
			self.fail(tok, "<IDENTIFIER>")
		self.expect_word("FROM")
		tok = self.next()
		if tok[0] != "word":
			self.fail(tok, "<IDENTIFIER>")
		entity = tok[1]
		if entity not in SPECS and entity not in QUERY_ONLY_ENTITIES:
			raise F.query_invalid(f"Invalid context declaration : {entity}")
		q = Query(entity=entity, count=count, fields=fields)
		if self.keyword("WHERE"):
			q.where.append(self.condition())
			while True:
				tok = self.peek()
				if tok and tok[0] == "word" and tok[1].upper() == "OR":
					self.fail(tok, "<EOF>")
				if not self.keyword("AND"):
					break
				q.where.append(self.condition())
		while self.peek() is not None:
			tok = self.next()
			word = tok[1].upper() if tok[0] == "word" else ""
			if word in ("ORDERBY", "ORDER"):
				if word == "ORDER":
					self.expect_word("BY")
				q.order.append(self.order_item())
				while self.peek() and self.peek()[1] == ",":
					self.next()
					q.order.append(self.order_item())
			elif word == "STARTPOSITION":
				q.start = self.integer()
			elif word == "MAXRESULTS":
				q.max_results = self.integer()
			else:
				self.fail(tok, "<EOF>")
		if q.start < 1:
			raise F.query_invalid(f"value {q.start} is too small. Min allowed value is 1")
		if q.max_results > C.MAX_QUERY_RESULTS:
			raise F.query_invalid(
				f"value {q.max_results} is too large. Max allowed value is {C.MAX_QUERY_RESULTS}"
			)
		if q.max_results < 0:
			raise F.query_invalid(f"value {q.max_results} is too small. Min allowed value is 0")
		return q

	def integer(self) -> int:
		tok = self.next()
		if tok[0] != "num" or "." in tok[1]:
			self.fail(tok, "<INTEGER>")
		return int(tok[1])

	def order_item(self) -> tuple[str, bool]:
		tok = self.next()
		if tok[0] != "word":
			self.fail(tok, "<IDENTIFIER>")
		desc = False
		if self.keyword("DESC"):
			desc = True
		else:
			self.keyword("ASC")
		return tok[1], desc

	def value(self):
		tok = self.next()
		kind, text, _ = tok
		if kind == "str":
			return text[1:-1].replace("\\'", "'")
		if kind == "num":
			return Decimal(text)
		if kind == "word" and text.lower() in ("true", "false"):
			return text.lower() == "true"
		self.fail(tok, "<STRING_LITERAL>")

	def condition(self) -> Condition:
		tok = self.next()
		if tok[0] != "word":
			self.fail(tok, "<IDENTIFIER>")
		path = tok[1]
		op_tok = self.next()
		op = op_tok[1].upper()
		if op not in OPS:
			self.fail(op_tok, "<OPERATOR>")
		if op == "IN":
			t = self.next()
			if t[1] != "(":
				self.fail(t, "(")
			values = [self.value()]
			while True:
				t = self.next()
				if t[1] == ")":
					break
				if t[1] != ",":
					self.fail(t, ")")
				values.append(self.value())
			return Condition(path, op, values)
		return Condition(path, op, self.value())


def parse(text: str) -> Query:
	if not text or not text.strip():
		raise F.query_parse('Encountered "<EOF>" at line 1, column 0.')
	return Parser(text).parse()


# ---- evaluation ------------------------------------------------------------------------------------------
def lookup(obj: dict, path: str):
	"""Dotted, case-insensitive path (`Metadata.LastUpdatedTime` finds `MetaData`); refs compare by value."""
	node = obj
	for part in path.split("."):
		if not isinstance(node, dict):
			return None
		if part in node:
			node = node[part]
			continue
		match = next((k for k in node if k.lower() == part.lower()), None)
		if match is None:
			return None
		node = node[match]
	if isinstance(node, dict) and "value" in node:
		node = node["value"]
	return node


def _is_time_path(path: str) -> bool:
	return path.lower().endswith("time")


def coerce_pair(path: str, actual, operand):
	if isinstance(actual, bool) or isinstance(operand, bool):
		if isinstance(operand, str):
			operand = operand.lower() == "true"
		return bool(actual), bool(operand)
	if _is_time_path(path) and isinstance(actual, str):
		try:
			return parse_datetime(actual), parse_datetime(str(operand))
		except ValueError:
			raise F.query_parse(f"Invalid date time value {operand}") from None
	if isinstance(actual, (int, Decimal)):
		dec = to_decimal(operand)
		if dec is None:
			return str(actual), str(operand)
		return Decimal(actual), dec
	actual_s = str(actual)
	operand_s = str(operand)
	if actual_s.isdigit() and operand_s.isdigit():
		return int(actual_s), int(operand_s)
	return actual_s.casefold(), operand_s.casefold()


def matches(obj: dict, cond: Condition) -> bool:
	actual = lookup(obj, cond.path)
	if actual is None or isinstance(actual, (dict, list)):
		return False
	if cond.op == "IN":
		return any(_compare(cond.path, actual, "=", v) for v in cond.value)
	if cond.op == "LIKE":
		return like(str(actual), str(cond.value))
	return _compare(cond.path, actual, cond.op, cond.value)


def like(text: str, pattern: str) -> bool:
	"""LIKE with QBO's only wildcard `%` (§3), case-insensitive, in time linear in len(text) per literal.

	Why not a regex: `%a%a%…%b` compiled to `.*a.*a…` backtracks exponentially (10 wildcards over 40
	characters took 64 s, issue 8). With `%` as the only wildcard, taking each literal piece at its
	leftmost match is always safe: a later match only leaves less room for the pieces after it."""
	return like_steps(text, pattern)[0]


def like_steps(text: str, pattern: str) -> tuple[bool, int]:
	"""(matches, characters scanned): the count is what the tests bound, instead of a wall-clock time."""
	text, pieces = text.casefold(), pattern.casefold().split("%")
	if len(pieces) == 1:
		return text == pieces[0], len(text)
	first, *middle, last = pieces
	if not text.startswith(first) or len(text) < len(first) + len(last) or not text.endswith(last):
		return False, len(first) + len(last)
	pos, end, steps = len(first), len(text) - len(last), len(first) + len(last)
	for piece in middle:
		found = text.find(piece, pos, end)
		steps += (found if found >= 0 else end) - pos + len(piece)
		if found < 0:
			return False, steps
		pos = found + len(piece)
	return True, steps


def _compare(path, actual, op, operand) -> bool:
	a, b = coerce_pair(path, actual, operand)
	try:
		if op == "=":
			return a == b
		if op == "<":
			return a < b
		if op == ">":
			return a > b
		if op == "<=":
			return a <= b
		if op == ">=":
			return a >= b
	except TypeError:
		return False
	return False


def sort_key(path: str, obj: dict):
	v = lookup(obj, path)
	if v is None:
		return (1, 0, "")
	if isinstance(v, bool):
		return (0, 0, int(v))
	if isinstance(v, (int, Decimal)):
		return (0, 0, Decimal(v))
	s = str(v)
	if s.isdigit():
		return (0, 0, Decimal(s))
	if _is_time_path(path):
		try:
			return (0, 1, parse_datetime(s).timestamp())
		except ValueError:
			pass
	return (0, 2, s.casefold())


def run(realm: Realm, text: str, now: datetime | None = None) -> dict:
	"""Execute; returns the QueryResponse content ({} when empty, §3). `now` dates the ExchangeRate rows."""
	q = parse(text)
	spec = SPECS.get(q.entity)
	if spec is None:
		from .rates import exchange_rate_objects

		objs = exchange_rate_objects(realm, now or datetime.now(timezone.utc))
	else:
		objs = [render(realm, r) for r in realm.live(q.entity)]
	conds = list(q.where)
	if (
		spec is not None
		and spec.name_list
		and not any(c.path.split(".")[-1].lower() == "active" for c in conds)
	):
		conds.append(Condition("Active", "=", True))
	hits = [o for o in objs if all(matches(o, c) for c in conds)]
	if q.count:
		return {"totalCount": len(hits)}
	hits.sort(key=lambda o: sort_key("Id", o))
	for path, desc in reversed(q.order):
		hits.sort(key=lambda o, p=path: sort_key(p, o), reverse=desc)
	page = hits[q.start - 1 : q.start - 1 + q.max_results]
	if not page:
		return {}
	if q.fields:
		wanted = {f.split(".")[0].lower() for f in q.fields} | {
			"id",
			"synctoken",
			"metadata",
			"domain",
			"sparse",
		}
		page = [{k: v for k, v in o.items() if k.lower() in wanted} for o in page]
	return {q.entity: page, "startPosition": q.start, "maxResults": len(page)}
