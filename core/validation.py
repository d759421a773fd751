"""Turn Pydantic validation errors into diagnostics that point at the YAML that caused them."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from charter.core.diagnostics import Diagnostic, did_you_mean, error
from charter.core.yamlsource import PathKey, YamlDocument

_TYPE_WORDS = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false",
    "bool_parsing": "true or false", "string_type": "text", "list_type": "a list", "dict_type": "a mapping",
    "model_type": "a mapping", "model_attributes_type": "a mapping", "date_type": "a date (YYYY-MM-DD)",
    "date_parsing": "a date (YYYY-MM-DD)", "date_from_datetime_parsing": "a date (YYYY-MM-DD)",
    "datetime_type": "a timestamp", "datetime_parsing": "a timestamp",
}


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    text = str(value)
    return f"`{text[:60]}{'...' if len(text) > 60 else ''}`"


def _walk(data: Any, loc: tuple[Any, ...], missing: bool = False) -> tuple[PathKey, Any, bool]:
    """Follow a Pydantic ``loc`` through the data, skipping union tags and validator names.

    Returns the data path, the value there, and whether the last component exists in the data."""
    path: list[str | int] = []
    current = data
    for i, part in enumerate(loc):
        if isinstance(current, dict | list) and _has(current, part):
            path.append(part)
            current = current[part]
        elif i == len(loc) - 1 and missing:
            path.append(part)
            return tuple(path), None, False
        # anything else is a union tag or a validator's name, not a place in the data
    return tuple(path), current, True


walk_loc = _walk


def _fields_of(model: Any) -> set[str]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        names: set[str] = set()
        for name, info in model.model_fields.items():
            alias = info.validation_alias
            choices = getattr(alias, "choices", None)
            if choices:
                names.update(str(c) for c in choices if isinstance(c, str) and not c.endswith("_"))
            else:
                names.add(info.alias or name)
        return names
    return set()


def _unwrap(annotation: Any, value: Any) -> list[Any]:
    """The BaseModel classes an annotation can hold, picking union members by `type` when possible."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0], value)
    if origin in (typing.Union, types.UnionType):
        members = [m for arg in typing.get_args(annotation) for m in _unwrap(arg, value)]
        if isinstance(value, dict) and "type" in value:
            tagged = [m for m in members if value["type"] in _literal_values(m)]
            if tagged:
                return tagged
        if isinstance(value, dict):  # a union selected by a key (notification targets): members it can be
            keyed = [m for m in members if all(_has(value, info.alias or name) for name, info in
                                               m.model_fields.items() if info.is_required())]
            if keyed:
                return keyed
        return members
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return []


def _literal_values(model: type[BaseModel]) -> tuple[Any, ...]:
    info = model.model_fields.get("type")
    return typing.get_args(info.annotation) if info else ()


def model_at(root: type[BaseModel], data: Any, path: PathKey) -> list[type[BaseModel]]:
    """The model class(es) describing the mapping at ``path`` of ``data`` (validated by ``root``)."""
    models: list[Any] = [root]
    current = data
    for part in path:
        nxt: list[Any] = []
        child: Any = current[part] if isinstance(current, dict | list) and _has(current, part) else None  # type: ignore[index]
        for model in models:
            if isinstance(part, str) and isinstance(model, type) and issubclass(model, BaseModel):
                info = _field_by_key(model, part)
                if info is not None:
                    nxt.append(info.annotation)
            elif isinstance(part, int):
                origin = typing.get_origin(model)
                args = typing.get_args(model)
                if origin is typing.Annotated:
                    model, args = args[0], typing.get_args(args[0])
                    origin = typing.get_origin(model)
                if origin is list and args:
                    nxt.append(args[0])
        models = [m for ann in nxt for m in ([ann] if typing.get_origin(ann) is list or
                                             (typing.get_origin(ann) is typing.Annotated and
                                              typing.get_origin(typing.get_args(ann)[0]) is list)
                                             else _unwrap(ann, child))]
        current = child
    return [m for ann in models for m in _unwrap(ann, current)]


def _has(container: Any, part: Any) -> bool:
    if isinstance(container, dict):
        return part in container
    return isinstance(part, int) and 0 <= part < len(container)


def _field_by_key(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        choices = getattr(info.validation_alias, "choices", None) or ()
        if key == name or key == info.alias or key in choices:
            return info
    return None


def translate(exc: ValidationError, *, doc: YamlDocument, base: PathKey, root_model: type[BaseModel], data: Any,
              what: str, errors: list[Any] | None = None,
              path_map: Callable[[PathKey], PathKey] | None = None) -> list[Diagnostic]:
    """Diagnostics for every error of ``exc`` (or for ``errors``, some of them); ``base`` is where ``data``
    sits in ``doc``. ``path_map`` turns a path in ``data`` into one in the YAML as written (when ``data``
    is a copy with invalid list items left out)."""
    out: list[Diagnostic] = []
    to_yaml: Callable[[PathKey], PathKey] = path_map or (lambda p: p)
    for err in (exc.errors(include_url=False) if errors is None else errors):
        rel, value, _ = _walk(data, tuple(err["loc"]), missing=err["type"] == "missing")
        path = (*base, *to_yaml(rel))
        etype = err["type"]
        hint = None
        key_pos = False
        ctx = err.get("ctx") or {}
        if etype == "extra_forbidden":
            key = rel[-1] if rel else "?"
            parent_models = model_at(root_model, data, rel[:-1])
            candidates = set().union(*(_fields_of(m) for m in parent_models)) if parent_models else set()
            message = f"unknown key `{key}` in {what}"
            hint = did_you_mean(str(key), candidates) if candidates else None
            if hint is None and candidates:
                hint = f"allowed keys: {', '.join(sorted(candidates))}"
            key_pos = True
        elif etype == "missing":
            message = f"missing required key `{rel[-1]}` in {what}" if rel else f"{what} is incomplete"
            path = path[:-1]
            pos = doc.value_position(path)
            out.append(error(message, file=doc.file, line=pos.line, column=pos.column, code="missing-key"))
            continue
        elif etype == "union_tag_invalid":
            tag = ctx.get("tag", value)
            expected = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
            message = f"unknown rule type `{tag}`"
            hint = did_you_mean(str(tag), expected) or "run `charter schema` or `charter plugins` to see the " \
                                                       "registered rule types"
            path = (*path, "type") if isinstance(value, dict) and "type" in value else path
            if isinstance(data, dict):
                path = (*base, *to_yaml(_rule_type_path(data, rel, ())))
        elif etype == "union_tag_not_found":
            message = f"a rule needs a `type` in {what}"
            hint = "e.g. `type: not_null`"
        elif etype == "source_type":
            keys = ctx.get("keys", "")
            kinds = ctx.get("types", "")
            if isinstance(value, dict) and "type" in value:
                message = f"unknown source type `{value['type']}`"
                hint = did_you_mean(str(value["type"]), [t.strip(" `") for t in kinds.split(",")]) or \
                    f"source types: {kinds}"
                path = (*path, "type")
            else:
                message = f"cannot tell which kind of source this is in {what}"
                hint = f"give exactly one of {keys}, or a `type` ({kinds})"
        elif etype == "literal_error":
            expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            message = f"{_describe(value)} is not allowed here; expected one of: {', '.join(expected)}"
            hint = did_you_mean(str(value), expected) if isinstance(value, str) else None
        elif etype in _TYPE_WORDS:
            message = f"expected {_TYPE_WORDS[etype]}, got {_describe(value)}"
        elif etype == "string_pattern_mismatch" and rel and rel[-1] == "name":
            message = f"{_describe(value)} is not a valid name"
            hint = "names use letters, digits, `_` and `-`, and start with a letter or `_`"
        elif etype in ("value_error", "assertion_error"):
            message = str(err["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
            target = _backticked_key(message, value if isinstance(value, dict) else None)
            if target is not None:
                path = (*path, target)
                key_pos = True
        else:
            message = str(err["msg"])
        if etype not in ("extra_forbidden", "value_error", "union_tag_invalid") and rel:
            message = f"{message} (at `{_dotted(rel)}` in {what})"
        pos = doc.key_position(path) if key_pos else doc.value_position(path)
        out.append(error(message, file=doc.file, line=pos.line, column=pos.column, hint=hint,
                         code=etype.replace("_", "-")))
    return _dedupe(out)


def _rule_type_path(data: dict[str, Any], rel: PathKey, base: PathKey) -> PathKey:
    node: Any = data
    for part in rel:
        node = node[part] if _has(node, part) else None
    return (*base, *rel, "type") if isinstance(node, dict) and "type" in node else (*base, *rel)


def _backticked_key(message: str, mapping: dict[str, Any] | None) -> str | None:
    if not mapping:
        return None
    for word in re.findall(r"`([A-Za-z_][A-Za-z0-9_.]*)`", message):
        if word in mapping:
            return word
    return None


def _dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _dedupe(items: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[tuple[Any, ...]] = set()
    out = []
    for d in items:
        key = (d.message, d.line, d.column)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out
