"""One-line checks of config values, shared by the run's own keys (gensweep.config) and each model's keys
(`check_keys` of gensweep.models): each names the key, the value given and what is allowed."""

from __future__ import annotations

from typing import Any

from gensweep.errors import ConfigError


def positive_int(key: str, value: Any, example: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{key}={value!r} is invalid: must be a positive integer (e.g. {key}={example})")
    return value


def non_negative_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{key}={value!r} is invalid: must be an integer >= 0 (0 turns it off)")
    return value


def positive_float(key: str, value: Any, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise ConfigError(f"{key}={value!r} is invalid: must be a positive number (e.g. {key}={example})")
    return float(value)


def non_negative_float(key: str, value: Any, example: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
        raise ConfigError(f"{key}={value!r} is invalid: must be a number >= 0 (e.g. {key}={example})")
    return float(value)


def fraction(key: str, value: Any, what: str, example: str) -> float:
    """A value in [0, 1), 0 turning the feature off (dropout, an average's decay)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConfigError(f"{key}={value!r} is invalid: {what} in [0, 1), 0 turns it off (e.g. {key}={example})")
    return float(value)


def boolean(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key}={value!r} is invalid: use true or false")
    return value


def one_of(key: str, value: Any, choices: dict[str, str]) -> str:
    """`choices`: each allowed value and, where it helps, what it means ("" for none)."""
    if value not in choices:
        named = [f"{c} ({why})" if why else c for c, why in choices.items()]
        raise ConfigError(f"{key}={value!r} is invalid: use {', '.join(named[:-1])} or {named[-1]}")
    return value


def betas(key: str, value: Any) -> tuple[float, float]:
    pair = list(value) if not isinstance(value, (str, int, float)) else None
    if (
        pair is None
        or len(pair) != 2
        or not all(isinstance(b, (int, float)) and not isinstance(b, bool) and 0 <= b < 1 for b in pair)
    ):
        raise ConfigError(
            f"{key}={value!r} is invalid: Adam's betas are two numbers in [0, 1) (e.g. {key}=[0.5,0.999])"
        )
    return float(pair[0]), float(pair[1])
