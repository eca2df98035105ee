"""Pydantic's validation errors, rewritten as ``(field path, what was expected)``.

Paths read like the YAML a user wrote: ``faults[2].duration``, ``load.stages[0].players``.
Pydantic puts the tag of a discriminated union into its locations
(``faults.2.provider.errors.rate``); they are dropped by walking the model's types along
the location, which also tells an unknown field which fields were allowed.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from typing import Annotated, Literal, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from pydantic_core import ErrorDetails

from spikekit.scenarios.model import ConsistencyError, FieldPath, dotted

__all__ = ["dotted", "problems_from"]


def problems_from(error: ValidationError, root: type[BaseModel]) -> list[tuple[FieldPath, str]]:
    """Each error of ``error`` as (clean path, expectation), in order, without repeats."""
    found: list[tuple[FieldPath, str]] = []
    for detail in error.errors():
        loc = tuple(item for item in detail["loc"] if item != "[key]")
        path, parent = _walk(root, loc)
        key_prefix = "as a key, " if len(loc) < len(detail["loc"]) else ""
        for sub_path, expected in _expectations(detail, parent):
            expected = key_prefix + expected
            item = ((*path, *sub_path), expected)
            if item not in found:
                found.append(item)
    return found


def _expectations(
    detail: ErrorDetails, parent: type[BaseModel] | None
) -> Iterable[tuple[FieldPath, str]]:
    kind = detail["type"]
    ctx = detail.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, ConsistencyError):
        return cause.problems
    if kind == "missing":
        return [((), "a value (this field is required)")]
    if kind == "extra_forbidden":
        allowed = ", ".join(parent.model_fields) if parent is not None else "see the template"
        return [((), f"no such field; expected one of: {allowed}")]
    if kind == "union_tag_invalid":
        tags = str(ctx.get("expected_tags", "")).replace("'", "")
        discriminator = str(ctx.get("discriminator", "type")).strip("'")
        return [((), f"{discriminator} one of: {tags}; got {ctx.get('tag')!r}")]
    if kind == "union_tag_not_found":
        discriminator = str(ctx.get("discriminator", "type")).strip("'")
        return [((), f"a {discriminator!r} field saying which kind this is")]
    return [((), _rephrase(detail))]


def _rephrase(detail: ErrorDetails) -> str:
    message = detail["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    if message.startswith("Input should be "):
        message = message.removeprefix("Input should be ")
        if message.startswith(("greater", "less")):
            message = "a value " + message
        message = "expected " + message
    value = detail.get("input")
    if isinstance(value, str | int | float | bool) and "got " not in message:
        message += f", got {value!r}"
    return message


def _walk(
    root: type[BaseModel], loc: tuple[str | int, ...]
) -> tuple[FieldPath, type[BaseModel] | None]:
    """The location without union tags, and the model that holds its last element."""
    path: list[str | int] = []
    current: object = root
    holder: type[BaseModel] | None = root
    for item in loc:
        current = _unwrap(current)
        members = _union_members(current)
        if members and isinstance(item, str) and item in members:
            current = members[item]
            holder = members[item]
            continue
        path.append(item)
        if isinstance(current, type) and issubclass(current, BaseModel):
            holder = current
            field = current.model_fields.get(str(item))
            current = field.annotation if field is not None else None
        elif get_origin(current) in (list, tuple) and isinstance(item, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            current = None
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        holder = current
    return tuple(path), holder


def _unwrap(annotation: object) -> object:
    """Strip ``Annotated`` and ``X | None``."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if _is_union(annotation):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _is_union(annotation: object) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _union_members(annotation: object) -> dict[str, type[BaseModel]]:
    """Tag → model of a discriminated union (``Literal`` fields or ``Tag`` markers)."""
    if not _is_union(annotation):
        return {}
    members: dict[str, type[BaseModel]] = {}
    for arg in get_args(annotation):
        tags: list[str] = []
        if get_origin(arg) is Annotated:
            tags += [m.tag for m in get_args(arg)[1:] if isinstance(m, Tag)]
            arg = get_args(arg)[0]
        if not (isinstance(arg, type) and issubclass(arg, BaseModel)):
            continue
        for field in arg.model_fields.values():
            if field.is_required() and get_origin(field.annotation) is Literal:
                tags += [v for v in get_args(field.annotation) if isinstance(v, str)]
        members.update(dict.fromkeys(tags, arg))
    return members
