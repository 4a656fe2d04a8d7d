"""Validate a request against AWS's own service model, as botocore ships it.

botocore's ``ParamValidator`` checks what the SDK checks before sending a
request: required members, unknown members, types, minimum lengths and values
(``botocore/validate.py``). The service also enforces each shape's ``max``,
``enum`` and ``pattern`` traits (``botocore/data/<service>/<version>/service-2.json``),
which the SDK leaves to the server; ``constraints`` walks the request and
checks those too.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

_TYPE_NAMES = {"missing required field", "unknown field", "invalid type", "invalid range", "invalid length",
               "invalid type for document", "more than one input", "empty input", "unable to encode to json"}


@dataclass(frozen=True)
class ShapeError:
    """One way a request breaks its service model: the member path, the value, and the trait it breaks."""

    path: str
    value: Any
    trait: str
    message: str


@functools.cache
def _loader() -> Any:
    # The loader alone: a botocore session would also import its client machinery, which the check never uses.
    from botocore.loaders import Loader

    return Loader()


@functools.cache
def service_model(service: str) -> ServiceModel:
    """The botocore model of one service, as shipped in ``botocore/data/<service>/<version>/service-2.json``."""
    return ServiceModel(_loader().load_service_model(service, "service-2"), service_name=service)


@functools.cache
def operation(service: str, name: str) -> OperationModel:
    """The operation model of one call (KeyError naming it when the service model has no such operation)."""
    model = service_model(service)
    if name not in model.operation_names:
        message = f"{service} has no operation {name}"
        raise KeyError(message)
    return model.operation_model(name)


@functools.cache
def operation_names(service: str) -> frozenset[str]:
    """Every operation of a service, by its API name (``PutMetricAlarm``)."""
    return frozenset(service_model(service).operation_names)


# IAM action prefixes that are not the name of a botocore service (the prefix is the service's signingName).
# Source: botocore elb/elbv2 service-2.json metadata.signingName "elasticloadbalancing", cloudwatch's "monitoring".
PREFIX_SERVICES: dict[str, frozenset[str]] = {
    "elasticloadbalancing": frozenset({"elb", "elbv2"}),
    "monitoring": frozenset({"cloudwatch"}),
    # RDS IAM authentication's prefix names no API (Service Authorization Reference, "Actions, resources, and condition
    # keys for Amazon RDS IAM Authentication": rds-db:connect only), and no botocore model signs or serves as rds-db.
    # Listed so that checking a plan that grants it does not read every service model to find that out.
    "rds-db": frozenset(),
}


@functools.cache
def _available() -> frozenset[str]:
    return frozenset(_loader().list_available_services("service-2"))


# How much of a service-2.json to read for its metadata: botocore's models put the top-level ``metadata`` object
# right after ``version`` (a few hundred bytes); a model that does not is read whole.
_HEAD_BYTES = 16384


def _head_metadata(text: str) -> dict[str, Any] | None:
    # Walk the top-level object key by key up to ``metadata``; None when the head does not hold it whole.
    decoder = json.JSONDecoder()
    at = text.find("{")
    while at >= 0:
        at = text.find('"', at + 1)
        if at < 0:
            return None
        try:
            key, at = decoder.raw_decode(text, at)
            at = text.index(":", at) + 1
            while text[at].isspace():
                at += 1
            value, at = decoder.raw_decode(text, at)
        except (ValueError, IndexError):
            return None
        if key == "metadata":
            return value if isinstance(value, dict) else None
        at = text.find(",", at)
    return None


def _metadata(service: str) -> dict[str, Any]:
    """A service model's ``metadata``, as ``service_model(service).metadata`` has it, without parsing its operations."""
    from botocore.exceptions import DataNotFoundError
    from botocore.loaders import ExtrasProcessor

    loader = _loader()
    version = loader.determine_latest_version(service, "service-2")
    metadata: dict[str, Any] | None = None
    for root in loader.search_paths:  # the loader's own order: the first path holding the model is the one it loads
        base = os.path.join(root, service, version, "service-2")
        if os.path.isfile(base + ".json"):
            with open(base + ".json", "rb") as plain:
                head = plain.read(_HEAD_BYTES)
        elif os.path.isfile(base + ".json.gz"):
            with gzip.open(base + ".json.gz", "rb") as packed:
                head = packed.read(_HEAD_BYTES)
        else:
            continue
        metadata = _head_metadata(head.decode("utf-8", errors="ignore"))
        break
    if metadata is None:
        return dict(service_model(service).metadata)
    # The model's extras files (``service-2.sdk-extras.json``) are merged into it as the loader does.
    model: dict[str, Any] = {"metadata": metadata}
    for kind in loader.extras_types:
        try:
            extras = loader.load_data(os.path.join(service, version, f"service-2.{kind}-extras"))
        except DataNotFoundError:
            continue
        ExtrasProcessor().process(model, [extras])
    return dict(model["metadata"])


@functools.cache
def _scan_prefixes() -> dict[str, frozenset[str]]:
    # Reads every service model's metadata (its head: 455 models in about 0.05 s of CPU, where parsing them whole
    # took 3 s), only for a prefix that is neither a service name nor listed above.
    found: dict[str, set[str]] = {}
    for service in _available():
        metadata = _metadata(service)
        for prefix in {metadata.get("signingName"), metadata.get("endpointPrefix")}:
            if prefix:
                found.setdefault(str(prefix).lower(), set()).add(service)
    return {prefix: frozenset(services) for prefix, services in found.items()}


@functools.cache
def services_for(prefix: str) -> frozenset[str]:
    """The botocore services whose operations an IAM action prefix names (empty: no such prefix)."""
    prefix = prefix.lower()
    if prefix in PREFIX_SERVICES:
        return PREFIX_SERVICES[prefix]
    if prefix in _available():
        return frozenset({prefix})
    return _scan_prefixes().get(prefix, frozenset())


def validate(service: str, name: str, params: dict[str, Any]) -> list[ShapeError]:
    """Every way ``params`` break the input shape of ``service``'s ``name`` operation."""
    from botocore.validate import ParamValidator

    shape = operation(service, name).input_shape
    if shape is None:
        return []
    report = ParamValidator().validate(params, shape)
    found = [
        ShapeError(member.lstrip("."), details.get("param"), kind, _describe(kind, details))
        # The report keeps (kind, member, details) per error; its text form loses the member path.
        for kind, member, details in report._errors  # noqa: SLF001
        if kind in _TYPE_NAMES
    ]
    found.extend(constraints(params, shape, ""))
    return found


def _describe(kind: str, details: dict[str, Any]) -> str:
    if kind == "missing required field":
        return f"required member {details.get('required_name')} is missing"
    if kind == "unknown field":
        return f"unknown member {details.get('unknown_param')}"
    if kind == "invalid type":
        allowed = [getattr(t, "__name__", str(t)) for t in details.get("valid_types", [])]
        return f"wrong type; allowed: {', '.join(allowed)}"
    if kind in ("invalid range", "invalid length"):
        return f"below the minimum {details.get('min_allowed')}"
    return kind


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str] | None:
    # Service patterns are Java regular expressions; the few Python cannot read are skipped, not guessed.
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


def constraints(value: Any, shape: Shape, path: str) -> Iterator[ShapeError]:
    """The ``max``, ``enum`` and ``pattern`` traits broken anywhere in a value."""
    kind = shape.type_name
    meta = shape.metadata
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for key, sub in value.items():
            member = shape.members.get(key)
            if member is not None:
                yield from constraints(sub, member, f"{path}.{key}" if path else key)
    elif isinstance(shape, ListShape) and isinstance(value, list):
        if "max" in meta and len(value) > meta["max"]:
            yield ShapeError(path, len(value), "max", f"{len(value)} items; at most {meta['max']} allowed")
        for index, item in enumerate(value):
            yield from constraints(item, shape.member, f"{path}[{index}]")
    elif isinstance(shape, MapShape) and isinstance(value, dict):
        for key, sub in value.items():
            yield from constraints(key, shape.key, f"{path}.(key)")
            yield from constraints(sub, shape.value, f"{path}.{key}")
    elif kind == "string" and isinstance(value, str):
        yield from _string(value, shape, path)
    elif kind in ("integer", "long", "double", "float") and isinstance(value, (int, float)) and not isinstance(value, bool):
        if "max" in meta and value > meta["max"]:
            yield ShapeError(path, value, "max", f"above the maximum {meta['max']}")


def _string(value: str, shape: Shape, path: str) -> Iterator[ShapeError]:
    meta = shape.metadata
    enum = getattr(shape, "enum", None) or meta.get("enum")
    if enum and value not in enum:
        yield ShapeError(path, value, "enum", f"not one of {', '.join(enum)}")
    if "max" in meta and len(value) > meta["max"]:
        yield ShapeError(path, value, "max", f"{len(value)} characters; at most {meta['max']} allowed")
    pattern = meta.get("pattern")
    compiled = _compiled(pattern) if pattern else None
    if compiled is not None and not compiled.fullmatch(value):
        yield ShapeError(path, value, "pattern", f"does not match {pattern}")
