"""The email package's policy for the messages the project builds and checks: the standard one,
with each kind of header's class made once."""

from __future__ import annotations

import email.policy
from email.headerregistry import BaseHeader, HeaderRegistry


class HeaderClasses(HeaderRegistry):
    """CPython's HeaderRegistry makes a new class every time it is asked for one: for every
    header set, read back or counted, about 30 for each letter sent, each one left to the
    garbage collector. Here each kind of header (address, date, unstructured ...) has one."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[type, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        # Keyed by the kind, not the name: unknown names all share the default class, and a
        # name mapped to another type later (map_to_type) gets that type.
        kind = self.registry.get(name.lower(), self.default_class)
        made = self._made.get(kind)
        if made is None:
            made = self._made[kind] = super().__getitem__(name)
        return made


MAIL_POLICY = email.policy.default.clone(header_factory=HeaderClasses())
