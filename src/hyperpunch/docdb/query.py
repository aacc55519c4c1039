"""Query matching, update operators and index keys of hyperbeedeebee 2.0.0, sans-IO.

Every function here is pure (no bee, no IO) and mirrors the JS function of the same role in
``hyperbeedeebee/index.js``: ``matches_query``/``query_compare`` (JS ``matchesQuery``/
``queryCompare``, JS ``===``/``>`` semantics on the Python stand-ins of JS values),
``perform_update`` (``performUpdate``, including its shallow copy: array operators mutate the
array shared with the old document, as in JS), ``flatten_document``, ``index_key``
(``makeIndexKeyV2``), ``query_prefix`` (``makeIndexKeyFromQuery``) and ``plan_index``
(``Cursor.getIndex``).

Beyond JS (never reached by a query JS accepts and answers): ``$ne $nin $not $regex $size
$elemMatch``, top-level ``$or $and $nor``, dotted paths (``"a.b"``, used only when the document
has no literal ``"a.b"`` field) and projections.

Invariants: for a query and update JS accepts, the result equals the JS one; JS's errors for bad
queries ("Invalid Query Type $x", "$in must be set to an array", ...) are raised as
:class:`InvalidQueryError` with the same message.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from bson import ObjectId
from bson.regex import Regex

from hyperpunch.docdb.codec import UNDEFINED, encode_key
from hyperpunch.docdb.errors import DocIndexError, InvalidQueryError, InvalidUpdateError

INDEX_VERSION: Final = "2.0"
OLD_INDEX_VERSION: Final = "1.0"


MISSING: Final = UNDEFINED


# --- JS value semantics -----------------------------------------------------------------------


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def strict_equal(a: Any, b: Any) -> bool:
    """JS ``a === b`` for two decoded values (objects are never equal: they are distinct)."""
    if a is MISSING or b is MISSING:
        return a is b
    if a is None or b is None:
        return a is b
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if _is_number(a):
        return _is_number(b) and a == b
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    return False


def _to_primitive(v: Any) -> Any:
    if isinstance(v, ObjectId):
        return str(v)
    if isinstance(v, list):
        return ",".join("" if x is None or x is MISSING else _to_string(x) for x in v)
    if isinstance(v, dict):
        return "[object Object]"
    if isinstance(v, datetime):
        return _date_ms(v)
    return v


def _to_string(v: Any) -> str:
    p = _to_primitive(v)
    if isinstance(p, str):
        return p
    if p is True:
        return "true"
    if p is False:
        return "false"
    if p is None:
        return "null"
    if _is_number(p):
        f = float(p)
        return str(int(f)) if f == int(f) and abs(f) < 1e21 else repr(f)
    return str(p)


_NUM = re.compile(r"^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Infinity)$")


def _to_number(v: Any) -> float:
    if v is MISSING:
        return math.nan
    if v is None or v is False:
        return 0.0
    if v is True:
        return 1.0
    if _is_number(v):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        if s == "":
            return 0.0
        if _NUM.match(s):
            return float(s.replace("Infinity", "inf"))
        if re.match(r"^0[xX][0-9a-fA-F]+$", s):
            return float(int(s, 16))
        return math.nan
    return math.nan


def js_less(a: Any, b: Any) -> bool | None:
    """JS abstract relational comparison ``a < b`` (None: undefined, i.e. a NaN was involved)."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        if a != a or b != b:
            return None
        return bool(a < b)
    pa, pb = _to_primitive(a), _to_primitive(b)
    if isinstance(pa, str) and isinstance(pb, str):
        if pa.isascii() and pb.isascii():
            return bool(pa < pb)
        return pa.encode("utf-16-be", "surrogatepass") < pb.encode("utf-16-be", "surrogatepass")
    na, nb = _to_number(pa), _to_number(pb)
    if math.isnan(na) or math.isnan(nb):
        return None
    return na < nb


def _date_ms(d: datetime) -> int:
    if d.tzinfo is None:
        d = d.replace(tzinfo=UTC)
    delta = d - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def _comparable(v: Any) -> Any:
    t = type(v)
    if t is int or t is float or t is str:
        return v
    return _date_ms(v) if isinstance(v, datetime) else v


def compare_gt(dv: Any, qv: Any) -> bool:
    return js_less(_comparable(qv), _comparable(dv)) is True


def compare_lt(dv: Any, qv: Any) -> bool:
    return js_less(_comparable(dv), _comparable(qv)) is True


def compare_gte(dv: Any, qv: Any) -> bool:
    r = js_less(_comparable(dv), _comparable(qv))
    return r is False


def compare_lte(dv: Any, qv: Any) -> bool:
    r = js_less(_comparable(qv), _comparable(dv))
    return r is False


def _objectid_equals(oid: ObjectId, other: Any) -> bool:
    if isinstance(other, ObjectId):
        return oid.binary == other.binary
    if isinstance(other, str):
        if len(other) == 24:
            return other.lower() == str(oid)
        if len(other) == 12:
            return other.encode("latin-1", "replace") == oid.binary
    if isinstance(other, (bytes, bytearray)) and len(other) == 12:
        return bytes(other) == oid.binary
    return False


def compare_eq(dv: Any, qv: Any) -> bool:
    if isinstance(dv, list):
        return any(compare_eq(item, qv) for item in dv)
    if isinstance(dv, ObjectId):
        return _objectid_equals(dv, qv)
    return strict_equal(qv, dv)


def compare_exists(dv: Any, qv: Any) -> bool:
    return (dv is not MISSING) is qv if isinstance(qv, bool) else False


def compare_in(dv: Any, qv: Any) -> bool:
    if not isinstance(qv, list):
        raise InvalidQueryError("$in must be set to an array")
    if isinstance(dv, list):
        return any(compare_eq(d, q) for d in dv for q in qv)
    return any(compare_eq(dv, q) for q in qv)


def compare_all(dv: Any, qv: Any) -> bool:
    if not isinstance(qv, list):
        raise InvalidQueryError("$all must be set to an array")
    if isinstance(dv, list):
        return all(any(compare_eq(d, q) for d in dv) for q in qv)
    return False


# beyond JS


def compare_ne(dv: Any, qv: Any) -> bool:
    return not compare_eq(dv, qv)


def compare_nin(dv: Any, qv: Any) -> bool:
    if not isinstance(qv, list):
        raise InvalidQueryError("$nin must be set to an array")
    return not compare_in(dv, qv)


def _pattern(qv: Any) -> re.Pattern[str]:
    if isinstance(qv, re.Pattern):
        return qv
    if isinstance(qv, Regex):
        return re.compile(qv.pattern, qv.flags if isinstance(qv.flags, int) else 0)
    if isinstance(qv, str):
        try:
            return re.compile(qv)
        except re.error as err:
            raise InvalidQueryError(f"$regex: {err}") from err
    raise InvalidQueryError("$regex must be a string or a compiled pattern")


def compare_regex(dv: Any, qv: Any) -> bool:
    pat = _pattern(qv)
    if isinstance(dv, list):
        return any(isinstance(x, str) and pat.search(x) is not None for x in dv)
    return isinstance(dv, str) and pat.search(dv) is not None


def compare_size(dv: Any, qv: Any) -> bool:
    if not _is_number(qv):
        raise InvalidQueryError("$size must be a number")
    return isinstance(dv, list) and len(dv) == qv


def compare_elem_match(dv: Any, qv: Any) -> bool:
    if not isinstance(qv, dict):
        raise InvalidQueryError("$elemMatch must be set to an object")
    if not isinstance(dv, list):
        return False
    if is_query_object(qv):
        return any(query_compare(x, qv) for x in dv)
    return any(isinstance(x, dict) and matches_query(x, qv) for x in dv)


def compare_not(dv: Any, qv: Any) -> bool:
    if isinstance(qv, (re.Pattern, Regex)):
        return not compare_regex(dv, qv)
    if not is_query_object(qv):
        raise InvalidQueryError("$not must be set to an operator object")
    return not query_compare(dv, qv)


QUERY_TYPES: Final = {
    "$gt": compare_gt,
    "$lt": compare_lt,
    "$gte": compare_gte,
    "$lte": compare_lte,
    "$in": compare_in,
    "$all": compare_all,
    "$eq": compare_eq,
    "$exists": compare_exists,
    "$ne": compare_ne,
    "$nin": compare_nin,
    "$regex": compare_regex,
    "$size": compare_size,
    "$elemMatch": compare_elem_match,
    "$not": compare_not,
}
"""The operators: the JS ones first (``$gt`` … ``$exists``), then the ones beyond JS."""


def is_query_object(v: Any) -> bool:
    """JS ``isQueryObject``: a mapping with some ``$`` key (JS throws on ``null``; so do we)."""
    if v is None:
        raise InvalidQueryError("Cannot convert undefined or null to object")
    return isinstance(v, Mapping) and any(isinstance(k, str) and k.startswith("$") for k in v)


def get_field(doc: Mapping[str, Any], field: str) -> Any:
    """``doc[field]``; a dotted path descends into sub-documents when no literal field exists."""
    if field in doc:
        return doc[field]
    if "." not in field:
        return MISSING
    cur: Any = doc
    for part in field.split("."):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
            cur = cur[int(part)]
        else:
            return MISSING
    return cur


def query_compare(dv: Any, qv: Any) -> bool:
    if is_query_object(qv):
        for op, operand in qv.items():
            compare = QUERY_TYPES.get(op)
            if compare is None:
                raise InvalidQueryError(f"Invalid Query Type {op}")
            if not compare(dv, operand):
                return False
        return True
    if isinstance(qv, (re.Pattern, Regex)):
        return compare_regex(dv, qv)
    return compare_eq(dv, qv)


def _logical(doc: Mapping[str, Any], op: str, qv: Any) -> bool:
    if not isinstance(qv, list) or not all(isinstance(q, Mapping) for q in qv):
        raise InvalidQueryError(f"{op} must be set to an array of queries")
    if op == "$or":
        return any(matches_query(doc, q) for q in qv)
    if op == "$and":
        return all(matches_query(doc, q) for q in qv)
    return not any(matches_query(doc, q) for q in qv)


def matches_query(doc: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
    for key, qv in query.items():
        if key in _LOGICAL:
            if not _logical(doc, key, qv):
                return False
            continue
        dv = doc[key] if key in doc else get_field(doc, key)
        if not query_compare(dv, qv):
            return False
    return True


_LOGICAL: Final = frozenset(("$or", "$and", "$nor"))


def compile_query(query: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], bool]:
    """``matches_query`` with the query's shape inspected once (same results, same errors, raised
    at the same documents: an unknown operator raises only when a document reaches it)."""
    tests: list[tuple[str, int, Any]] = []
    for key, qv in query.items():
        if key in _LOGICAL:
            tests.append((key, 0, qv))
        elif is_query_object(qv):
            tests.append((key, 1, [(op, QUERY_TYPES.get(op), operand) for op, operand in qv.items()]))
        elif isinstance(qv, (re.Pattern, Regex)):
            tests.append((key, 2, qv))
        else:
            tests.append((key, 3, qv))

    def match(doc: Mapping[str, Any]) -> bool:
        for key, kind, payload in tests:
            if kind == 0:
                if not _logical(doc, key, payload):
                    return False
                continue
            dv = doc[key] if key in doc else get_field(doc, key)
            if kind == 1:
                for op, fn, operand in payload:
                    if fn is None:
                        raise InvalidQueryError(f"Invalid Query Type {op}")
                    if not fn(dv, operand):
                        return False
            elif kind == 2:
                if not compare_regex(dv, payload):
                    return False
            elif not compare_eq(dv, payload):
                return False
        return True

    return match


def validate_query(query: Any) -> None:
    """Raise :class:`InvalidQueryError` for a query that is not a mapping with string keys."""
    if not isinstance(query, Mapping):
        raise InvalidQueryError(f"a query must be a mapping, got {type(query).__name__}")
    for k in query:
        if not isinstance(k, str):
            raise InvalidQueryError(f"query keys must be strings, got {k!r}")


# --- projections (beyond JS) -------------------------------------------------------------------


def project(doc: dict[str, Any], projection: Mapping[str, Any] | None) -> dict[str, Any]:
    """MongoDB-style projection: all-inclusive or all-exclusive (``_id`` kept unless excluded)."""
    if not projection:
        return doc
    flags = {k: bool(v) for k, v in projection.items()}
    include = {k for k, v in flags.items() if v and k != "_id"}
    exclude = {k for k, v in flags.items() if not v and k != "_id"}
    if include and exclude:
        raise InvalidQueryError("a projection cannot both include and exclude fields")
    keep_id = flags.get("_id", True)
    if include:
        return {k: v for k, v in doc.items() if k in include or (k == "_id" and keep_id)}
    return {k: v for k, v in doc.items() if k not in exclude and not (k == "_id" and not keep_id)}


# --- updates -----------------------------------------------------------------------------------


def _fields(op: str, operand: Any) -> Mapping[str, Any]:
    if not isinstance(operand, Mapping):
        raise InvalidUpdateError(f"{op} must be set to an object")
    return operand


def _js_add(a: Any, b: Any, op: str) -> Any:
    if _is_number(a) and _is_number(b):
        return a + b
    if isinstance(a, str) or isinstance(b, str):
        return _to_string(a) + _to_string(b)
    raise InvalidUpdateError(f"{op}: cannot add {type(b).__name__} to {type(a).__name__}")


def _update_set(doc: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for k, v in fields.items():
        doc[k] = v


def _update_unset(doc: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for k in fields:
        doc.pop(k, None)


def _update_rename(doc: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for k, name in fields.items():
        if k not in doc:
            continue
        if not isinstance(name, str):
            raise InvalidUpdateError(f"$rename target of {k!r} must be a string")
        value = doc.pop(k)
        doc[name] = value


def _update_inc(doc: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for k, v in fields.items():
        doc[k] = v if k not in doc else _js_add(doc[k], v, "$inc")


def _update_mul(doc: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for k, v in fields.items():
        if k not in doc:
            doc[k] = 0
        elif _is_number(doc[k]) and _is_number(v):
            doc[k] = doc[k] * v
        else:
            doc[k] = (
                math.nan if _to_number(doc[k]) != _to_number(doc[k]) else _to_number(doc[k]) * _to_number(v)
            )


def _each(v: Any) -> list[Any] | None:
    if isinstance(v, Mapping) and "$each" in v:
        each = v["$each"]
        if not isinstance(each, list):
            raise InvalidUpdateError("$each must be set to an array")
        return each if each else None
    return None


def _update_push(doc: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for k, to_push in fields.items():
        if k not in doc:
            doc[k] = to_push
            continue
        value = doc[k]
        if not isinstance(value, list):
            continue
        each = _each(to_push)
        if each is not None:
            value.extend(each)
        else:
            value.append(to_push)


def _includes(arr: list[Any], item: Any) -> bool:
    return any(strict_equal(x, item) or (x is item) for x in arr)


def _update_add_to_set(doc: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for k, to_add in fields.items():
        if k not in doc:
            doc[k] = to_add
            continue
        value = doc[k]
        if not isinstance(value, list):
            continue
        each = _each(to_add)
        if each is not None:
            for item in each:
                if not _includes(value, item):
                    value.append(item)
        elif not _includes(value, to_add):
            value.append(to_add)


def _update_pop(doc: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for k, direction in fields.items():
        value = doc.get(k)
        if not isinstance(value, list):
            continue
        d = _to_number(direction)
        if d > 0 and value:
            value.pop()
        elif d < 0 and value:
            value.pop(0)


def _update_pull(doc: dict[str, Any], fields: Mapping[str, Any]) -> None:
    for k, q in fields.items():
        value = doc.get(k)
        if not isinstance(value, list):
            continue
        doc[k] = [item for item in value if not query_compare(item, q)]


UPDATE_TYPES: Final = {
    "$set": _update_set,
    "$unset": _update_unset,
    "$rename": _update_rename,
    "$inc": _update_inc,
    "$mul": _update_mul,
    "$addToSet": _update_add_to_set,
    "$pop": _update_pop,
    "$pull": _update_pull,
    "$push": _update_push,
}


def perform_update(doc: dict[str, Any], update: Any) -> dict[str, Any]:
    """JS ``performUpdate``: a shallow copy of ``doc`` with ``update`` (or a list of them) applied."""
    if isinstance(update, list):
        for u in update:
            doc = perform_update(doc, u)
        return doc
    if not isinstance(update, Mapping):
        raise InvalidUpdateError(
            f"an update must be a mapping or a list of them, got {type(update).__name__}"
        )
    new_doc = dict(doc)
    for key, operand in update.items():
        fn = UPDATE_TYPES.get(key)
        if fn is not None:
            fn(new_doc, _fields(key, operand))
        elif isinstance(key, str) and key.startswith("$"):
            raise InvalidUpdateError(f"Invalid Update Type {key}")
        else:
            new_doc[key] = operand
    return new_doc


def upsert_seed(query: Mapping[str, Any]) -> dict[str, Any]:
    """The document an upsert starts from: ``$eq`` values and plain values of the query."""
    seed: dict[str, Any] = {}
    for field, qv in query.items():
        if field.startswith("$"):
            continue
        if isinstance(qv, Mapping) and "$eq" in qv:
            seed[field] = qv["$eq"]
        elif qv is None or not is_query_object(qv):
            seed[field] = qv
    return seed


# --- index keys ----------------------------------------------------------------------------------


def has_fields(doc: Mapping[str, Any], fields: Sequence[str]) -> bool:
    return all(f in doc for f in fields)


def flatten_document(doc: Mapping[str, Any], fields: Sequence[str]) -> Iterator[dict[str, Any]]:
    """JS ``flattenDocument``: one variant of ``doc`` per combination of the array fields' items
    (the array fields move to the end of each variant, as JS's spread does)."""
    had_array = False
    for key in fields:
        values = doc.get(key)
        if isinstance(values, list) and values:
            had_array = True
            copy = {k: v for k, v in doc.items() if k != key}
            remaining = [f for f in fields if f != key]
            for value in values:
                for flattened in flatten_document(copy, remaining):
                    out = dict(flattened)
                    out.pop(key, None)
                    out[key] = value
                    yield out
    if not had_array:
        yield dict(doc)


def index_key(
    doc: Mapping[str, Any], fields: Sequence[str], all_fields: Sequence[str] | None = None
) -> bytes:
    """JS ``makeIndexKeyV2``: CBOR ``[values…, id]``; with fewer ``fields`` than ``all_fields`` the
    zero-padded encoding cut by one byte per pad (a query prefix)."""
    all_fields = fields if all_fields is None else all_fields
    values: list[Any] = []
    for f in fields:
        v = doc.get(f, MISSING)
        values.append(v.binary if isinstance(v, ObjectId) else v)
    oid = doc.get("_id")
    if oid:
        values.append(oid.binary if isinstance(oid, ObjectId) else oid)
    to_remove = 0
    while len(values) < len(all_fields) + 1:
        values.append(0)
        to_remove += 1
    key = encode_key(values)
    return key[: len(key) - to_remove] if to_remove else key


def index_entries(doc: Mapping[str, Any], fields: Sequence[str]) -> list[bytes]:
    """The index keys of ``doc`` (JS ``_indexDocument``): none unless it has every field."""
    if not has_fields(doc, fields):
        return []
    return [index_key(flat, fields) for flat in flatten_document(doc, fields)]


def doc_from_index_key(values: list[Any], fields: Sequence[str]) -> dict[str, Any]:
    """JS ``makeDocFromIndexV2``: field name -> decoded value (12-byte buffers as ObjectIds)."""
    out: dict[str, Any] = {}
    for i, v in enumerate(values):
        field = fields[i] if i < len(fields) else "_id"
        out[field] = ObjectId(v) if isinstance(v, bytes) and len(v) == 12 else v
    return out


def query_prefix(
    query: Mapping[str, Any], prefix_fields: Sequence[str], index_fields: Sequence[str]
) -> bytes:
    """JS ``makeIndexKeyFromQuery``: the key prefix of the leading equality fields."""
    doc: dict[str, Any] = {}
    for f in prefix_fields:
        qv: Any = query.get(f)
        if is_query_object(qv):
            if "$eq" in qv:
                doc[f] = qv["$eq"]
            elif "$gt" in qv:
                doc[f] = qv["$gt"]
        else:
            doc[f] = qv
    return index_key(doc, prefix_fields, index_fields)


def prefix_range(gt: bytes) -> tuple[bytes, bytes]:
    """``(gt, lt)``: ``lt`` is ``gt`` with its last byte replaced by 0xFF (as JS does)."""
    return gt, gt[:-1] + b"\xff"


# --- index choice ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sort:
    field: str
    direction: int = 1


@dataclass(frozen=True, slots=True)
class IndexPlan:
    """The index a cursor reads and the leading equality fields that form its key prefix."""

    name: str
    fields: tuple[str, ...]
    prefix_fields: tuple[str, ...]


def consecutive_subset(origin: Sequence[str], values: Sequence[str]) -> int:
    n = 0
    for item in origin:
        if item not in values:
            return n
        n += 1
    return n


def eq_fields(query: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """``(existing_fields, eq_fields)`` as ``Cursor.getIndex`` computes them."""
    existing = [
        f for f in query if not (is_query_object(query[f]) and query[f].get("$exists", None) is False)
    ]
    eqs = [f for f in existing if not is_query_object(query[f]) or "$eq" in query[f]]
    return existing, eqs


def _index_fields(index: Mapping[str, Any]) -> list[str]:
    fields = index.get("fields")
    if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
        raise DocIndexError(f"index {index.get('name')!r} has no field list")
    return fields


def plan_hinted(query: Mapping[str, Any], index: Mapping[str, Any], sort: Sort | None) -> IndexPlan:
    _, eqs = eq_fields(query)
    fields = _index_fields(index)
    if sort is not None:
        if sort.field not in fields:
            raise DocIndexError("Hinted Index doesn't match required sort")
        if consecutive_subset(fields, eqs) != fields.index(sort.field):
            raise DocIndexError("Hinted index doesn't match required sort")
    n = consecutive_subset(fields, eqs)
    return IndexPlan(str(index.get("name")), tuple(fields), tuple(fields[:n]))


def plan_index(
    query: Mapping[str, Any], indexes: Sequence[Mapping[str, Any]], sort: Sort | None
) -> IndexPlan | None:
    """JS ``Cursor.getIndex`` without a hint: the usable index with the most leading eq fields."""
    existing, eqs = eq_fields(query)
    candidates: list[tuple[int, int, list[str], Mapping[str, Any]]] = []
    for pos, index in enumerate(indexes):
        if index.get("version") not in (INDEX_VERSION, OLD_INDEX_VERSION):
            continue
        fields = _index_fields(index)
        if sort is not None:
            if sort.field not in fields:
                continue
            if consecutive_subset(fields, eqs) != fields.index(sort.field):
                continue
        elif not any(f in existing for f in fields):
            continue
        candidates.append((-consecutive_subset(fields, eqs), pos, fields, index))
    if not candidates:
        return None
    candidates.sort(key=lambda c: (c[0], c[1]))
    _, _, fields, index = candidates[0]
    n = consecutive_subset(fields, eqs)
    return IndexPlan(str(index.get("name")), tuple(fields), tuple(fields[:n]))


def index_subquery(query: Mapping[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    """The part of ``query`` tested against an index key before loading the document."""
    keep = [f for f in fields if not (is_query_object(query.get(f, 0)) and "$all" in query[f])]
    return {f: query[f] for f in keep if f in query}
