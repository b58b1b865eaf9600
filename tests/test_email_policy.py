"""The project's email policy: one header class per kind of header, made once."""

from __future__ import annotations

from email.headerregistry import UnstructuredHeader

from mp_mailer.email_policy import HeaderClasses


class _PriorityHeader(UnstructuredHeader):
    max_count = 1


def test_header_classes_give_every_name_of_one_kind_the_same_class_when_asked_again() -> None:
    classes = HeaderClasses()

    assert classes["To"] is classes["to"] is classes["Cc"]
    assert classes["X-Campaign"] is classes["X-Anything-At-All"]
    assert classes["To"] is not classes["X-Campaign"]


def test_header_classes_use_the_new_type_when_a_name_is_mapped_after_it_was_made() -> None:
    classes = HeaderClasses()
    assert classes["X-Priority"].max_count is None

    classes.map_to_type("x-priority", _PriorityHeader)

    assert issubclass(classes["X-Priority"], _PriorityHeader)
    assert classes["X-Priority"].max_count == 1
