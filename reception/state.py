"""Typed per-plugin state on the hub: `reception.state[KEY]` where ``KEY = StateKey[T]("name")``.

A plugin declares its key once, next to the type it keeps, so a reader gets
that type back (mypy checks it) and two plugins cannot collide on a string.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
D = TypeVar("D")


class StateKey(Generic[T]):
    """A key for `State`; compared by identity, named for error messages."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"StateKey({self.name!r})"


class State:
    """What plugins keep on the hub between hook calls, one typed slot per `StateKey`."""

    def __init__(self) -> None:
        self._values: dict[StateKey[Any], Any] = {}  # each value of the type its key names (the methods' signatures)

    def __getitem__(self, key: StateKey[T]) -> T:
        try:
            return self._values[key]
        except KeyError:
            raise KeyError(f"{key.name}: nothing is kept under this key yet (is the plugin started?)") from None

    def __setitem__(self, key: StateKey[T], value: T) -> None:
        if not isinstance(key, StateKey):
            raise TypeError(f"state keys are StateKey objects, not {type(key).__name__}")
        self._values[key] = value

    def __contains__(self, key: object) -> bool:
        return key in self._values

    @overload
    def get(self, key: StateKey[T]) -> T | None: ...
    @overload
    def get(self, key: StateKey[T], default: D) -> T | D: ...
    def get(self, key: StateKey[T], default: object = None) -> object:
        return self._values.get(key, default)

    def setdefault(self, key: StateKey[T], default: T) -> T:
        if key not in self._values:
            self[key] = default
        return self[key]

    def pop(self, key: StateKey[T]) -> T | None:
        return self._values.pop(key, None)
