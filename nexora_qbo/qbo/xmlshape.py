"""Turn a QBO XML envelope into the JSON shape, so an XML body never crashes the JSON code paths.

QBO answers JSON when asked, but throttles (and, historically, other bodies) arrive as XML anyway. XML
faults are handled in errors.py; this covers an XML *success* body by mapping it onto the JSON conventions:
attributes become keys, `<CustomerRef name="X">1</CustomerRef>` becomes {"name": "X", "value": "1"},
repeated children become lists. XML carries no number types, so scalars stay strings (Ids are strings in
JSON too; amounts should go through money.to_money anyway).
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

# Children that are arrays in QBO JSON even when XML holds only one of them.
_ALWAYS_LIST = frozenset(
	{
		"QueryResponse",
		"Line",
		"LinkedTxn",
		"CustomField",
		"TaxLine",
		"Error",
		"BatchItemResponse",
		"NameValue",
		"TaxRateDetail",
		"CDCResponse",
	}
)
_QUERY_META = frozenset({"startPosition", "maxResults", "totalCount"})


def _local(tag: str) -> str:
	return tag.rsplit("}", 1)[-1]


def _convert(node: ElementTree.Element, force_list: bool = False) -> Any:
	children = list(node)
	attrs = dict(node.attrib)
	text = (node.text or "").strip()
	if not children:
		if _local(node.tag).endswith("Ref") and text:
			return {**attrs, "value": text}
		if attrs:
			result: dict[str, Any] = dict(attrs)
			if text:
				result["value"] = text
			return result
		return text if text or force_list else {}
	result = dict(attrs)
	in_query = _local(node.tag) == "QueryResponse"
	for child in children:
		name = _local(child.tag)
		value = _convert(child)
		if name in _ALWAYS_LIST or in_query and name not in _QUERY_META:
			result.setdefault(name, []).append(value)
		elif name in result:
			if not isinstance(result[name], list):
				result[name] = [result[name]]
			result[name].append(value)
		else:
			result[name] = value
	return result


def xml_to_json_shape(text: str) -> dict[str, Any] | None:
	"""`<IntuitResponse time=..>...</IntuitResponse>` -> {"...": ..., "time": ...}; None if not XML."""
	try:
		root = ElementTree.fromstring(text.lstrip().encode("utf-8"))
	except ElementTree.ParseError:
		return None
	converted = _convert(root)
	if not isinstance(converted, dict):
		return None
	if _local(root.tag) != "IntuitResponse":
		converted = {_local(root.tag): converted}
	return _numeric_meta(converted)


def _numeric_meta(value: Any) -> Any:
	"""startPosition/maxResults/totalCount are ints in JSON; make them ints here too."""
	if isinstance(value, dict):
		out = {}
		for key, item in value.items():
			if key in _QUERY_META and isinstance(item, str) and item.isdigit():
				out[key] = int(item)
			else:
				out[key] = _numeric_meta(item)
		return out
	if isinstance(value, list):
		return [_numeric_meta(item) for item in value]
	return value
