"""The registered step-up methods, in the gate's order. No reflex import."""

from __future__ import annotations

from panel_app.services.methods.base import NAME_MAX_LENGTH, StepUpMethod

_METHODS: dict[str, StepUpMethod] = {}


def register(method: StepUpMethod) -> StepUpMethod:
    name = method.name
    if not name or len(name) > NAME_MAX_LENGTH or not name.isascii():
        raise ValueError(f"a method name is 1 to {NAME_MAX_LENGTH} ASCII characters: {name!r}")
    if name in _METHODS and _METHODS[name] is not method:
        raise ValueError(f"method {name!r} is registered already")
    _METHODS[name] = method
    return method


def unregister(name: str) -> None:
    _METHODS.pop(name, None)


def get(name: object) -> StepUpMethod | None:
    """The method called ``name`` (any client input), or None."""
    return _METHODS.get(name) if isinstance(name, str) else None


def registered() -> list[StepUpMethod]:
    return sorted(_METHODS.values(), key=lambda method: (method.order, method.name))
