"""The headers of an AMI action, checked and escaped: pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["action_headers", "check_value", "variable_headers"]


def check_value(key: str, value: str) -> str:
    """``value`` unchanged; a line break in it would end the header (and inject others)."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"AMI field {key!r} must not contain a line break")
    return value


def action_headers(
    name: str, fields: Mapping[str, str | int | Iterable[str]]
) -> dict[str, str | list[str]]:
    """``Action: name`` and ``fields``; an iterable value is sent once per item."""
    headers: dict[str, str | list[str]] = {"Action": check_value("Action", name)}
    for key, value in fields.items():
        if isinstance(value, str | int):
            headers[key] = check_value(key, str(value))
        else:
            headers[key] = [check_value(key, str(v)) for v in value]
    return headers


def _escape_variable_value(value: str) -> str:
    """Asterisk splits a ``Variable`` header on commas and strips quotes and backslashes."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace(",", "\\,")


def variable_headers(variables: Mapping[str, str]) -> list[str]:
    """One ``Variable`` header value (``NAME=value``) per channel variable."""
    return [
        f"{check_value('Variable', k)}={_escape_variable_value(v)}" for k, v in variables.items()
    ]
