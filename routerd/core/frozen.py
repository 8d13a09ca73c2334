"""Positional constructors for frozen, slotted dataclasses made by the ten thousand per pass.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, the
generic attribute path, because its own ``__setattr__`` refuses; with seven fields that is
most of what making one costs. A first pass at 10,000 claims makes a route, an intent and a
piece per claim and a change per object, so ``maker(cls)`` gives a function that makes the
same instance by writing each slot through its descriptor instead: about half the cost,
and the instance is the one ``cls(*args)`` gives (same fields, frozen, equal, hashable).

The constructor takes every ``init`` field positionally, in declaration order (defaults
are not filled in: the hot loops that use it pass everything), and runs ``__post_init__``
when the class has one. A caller that already holds what ``__post_init__`` would derive
(a route's key, known per shape of claim) names those non-``init`` fields in ``derived``:
they are then taken positionally after the ``init`` ones and ``__post_init__`` is not run.
Like ``dataclasses`` itself it compiles the function from source (made once per class, at
import).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def maker(cls: type[T], derived: tuple[str, ...] = ()) -> Callable[..., T]:
    """The positional constructor of ``cls`` (see the module docstring).

    Args:
        cls: a dataclass declared with ``frozen=True, slots=True``.
        derived: non-``init`` fields the caller passes (after the ``init`` ones) instead of
            having ``__post_init__`` compute them; the caller must pass exactly what it
            would.

    Returns:
        ``make(*fields)``, equal in result to ``cls(*fields)``.

    Raises:
        TypeError: ``cls`` is not a frozen, slotted dataclass, or ``derived`` names no
            non-``init`` field of it.
    """
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__} is not a frozen, slotted dataclass")
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    missing = dataclasses.MISSING
    if any(not f.init and (f.default, f.default_factory) != (missing, missing) for f in fields):
        raise TypeError(f"{cls.__name__} has a non-init field with a default")
    names = [f.name for f in fields if f.init]
    late = {f.name for f in fields if not f.init}
    if not set(derived) <= late:
        raise TypeError(f"{cls.__name__}: {sorted(set(derived) - late)} are not derived fields")
    names += derived
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def make({', '.join(names)}):", "    o = _new(_cls)"]
    for i, name in enumerate(names):
        scope[f"_set{i}"] = getattr(cls, name).__set__
        lines.append(f"    _set{i}(o, {name})")
    if hasattr(cls, "__post_init__") and not derived:
        lines.append("    o.__post_init__()")
    lines.append("    return o")
    exec("\n".join(lines), scope)  # source built above from field names only
    make: Callable[..., T] = scope["make"]
    make.__qualname__ = make.__name__ = f"make_{cls.__name__}"
    return make
