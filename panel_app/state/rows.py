"""Display records shared by several pages.

A page's rows are frozen dataclasses of plain strings: exactly what the browser
may see, built by the state from a service's records (never an ORM row, whose
every field would be sent). Reflex serialises a dataclass field by field, and a
page reads a field by attribute (``row.label``) inside ``rx.foreach``, checked
when the page compiles. Rows used by one page only live beside its state.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a select: the value sent back and the label shown."""

    value: str
    label: str
