"""The OpenAPI description (ivr/api/openapi.yaml) and the API's routes agree.

Every route of the API has an operation in the description, and every operation a
route, except those in :data:`CONTRACT_PENDING`: operations described ahead of their
handlers (agreed endpoints still being built). Empty it once they are merged; from
then on the description and the routes must match exactly in both directions.
"""

from __future__ import annotations

from typing import Any

import schemathesis

from ivr.api.openapi import openapi_spec
from tests.api_routes import served_routes

# (method, path) described in the OpenAPI document but not yet served (kept empty).
CONTRACT_PENDING: frozenset[tuple[str, str]] = frozenset()

METHODS = ("get", "put", "post", "delete", "patch")
ROLES = {"anyone", "viewer", "supervisor", "admin"}


def served() -> set[tuple[str, str]]:
    return set(served_routes())


def described() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in openapi_spec()["paths"].items()
        for method in METHODS
        if method in item
    }


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, item[method])
        for path, item in openapi_spec()["paths"].items()
        for method in METHODS
        if method in item
    ]


def test_every_route_is_described() -> None:
    missing = sorted(served() - described())
    assert not missing, f"describe these routes in ivr/api/openapi.yaml: {missing}"


def test_every_description_has_a_route() -> None:
    extra = sorted(described() - served() - CONTRACT_PENDING)
    assert not extra, f"ivr/api/openapi.yaml describes routes the API does not serve: {extra}"


def test_pending_operations_are_still_pending() -> None:
    """An operation served now leaves CONTRACT_PENDING (so the check above covers it)."""
    done = sorted(CONTRACT_PENDING & served())
    assert not done, f"remove from CONTRACT_PENDING, they are served now: {done}"
    unknown = sorted(CONTRACT_PENDING - described())
    assert not unknown, f"CONTRACT_PENDING names operations not described: {unknown}"


def test_the_description_is_valid_openapi() -> None:
    schema = schemathesis.openapi.from_dict(openapi_spec())
    schema.validate()
    assert len(list(schema.get_all_operations())) == len(described())


def test_every_operation_names_its_roles_and_errors() -> None:
    for method, path, op in operations():
        where = f"{method} {path}"
        roles = op.get("x-roles")
        assert roles and set(roles) <= ROLES, f"{where}: x-roles must list roles from {ROLES}"
        codes = set(op["responses"])
        assert "200" in codes, f"{where}: no 200 answer described"
        if roles == ["anyone"]:
            assert op.get("security") == [], f"{where}: a public operation needs security: []"
            continue
        assert {"401", "503"} <= codes, f"{where}: every token-guarded operation may be 401, 503"
        if set(roles) != {"viewer", "supervisor", "admin"} or path.endswith("{name}"):
            assert "403" in codes, f"{where}: an operation some roles may not use answers 403"


def test_no_value_is_left_empty() -> None:
    """A stray comma in a YAML flow mapping (``{description: a, b}``) makes a key ``b``
    with no value; the description never has an empty value."""

    def empty(x: Any, where: str) -> list[str]:
        if isinstance(x, dict):
            here = [f"{where}/{k}" for k, v in x.items() if v is None]
            return here + [e for k, v in x.items() for e in empty(v, f"{where}/{k}")]
        if isinstance(x, list):
            return [e for i, v in enumerate(x) for e in empty(v, f"{where}[{i}]")]
        return []

    assert not empty(openapi_spec(), ""), "quote the values with commas in ivr/api/openapi.yaml"
