"""The client's half of the sheet rows: COPY's text-format escapes, illegal characters, and
`xml:space="preserve"` on text that ends in whitespace (`exporter.writers.sheet_rows`)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st
from xlsx_readers import as_sheet_holds

from exporter.writers.sheet_rows import finish_rows, preserve_spaces, unescape

FFFD = "\ufffd".encode()
PRESERVED = b'<t xml:space="preserve">'
# What PostgreSQL text can hold: any character but NUL (and no lone surrogates in UTF-8).
TEXT = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")


@pytest.mark.parametrize(
    ("copied", "xml"),
    [
        (b"a\\nb", b"a&#10;b"),
        (b"a\\rb", b"a&#13;b"),
        (b"a\\tb", b"a&#9;b"),
        (b"a\\bb\\fc\\vd", b"a" + FFFD + b"b" + FFFD + b"c" + FFFD + b"d"),
        (b"C:\\\\temp", b"C:\\temp"),  # an escaped backslash starts no escape
        (b"\\\\n", b"\\n"),
        (b"\\\\\\n", b"\\&#10;"),
        (b"a\x01b\x1fc", b"a" + FFFD + b"b" + FFFD + b"c"),
        ("a\ufffeb\uffffc".encode(), b"a" + FFFD + b"b" + FFFD + b"c"),
        ("\uffef\ufffd".encode(), "\uffef\ufffd".encode()),  # legal neighbours stay
        ("é中😀\x7f".encode(), "é中😀\x7f".encode()),
    ],
)
def test_copy_escapes_become_xml(copied: bytes, xml: bytes) -> None:
    assert unescape(copied)[0] == xml


@pytest.mark.parametrize(
    ("copied", "ends"),
    [
        (b"<t>a\\n</t>", True),
        (b"<t>a\\t</t>", True),
        (b"<t>a\\nb</t>", False),
        (b"<t>a\\\\</t>", False),
        (b"<t>a\\b</t>", False),
        (b"<t>plain</t>", False),
    ],
)
def test_unescape_tells_whether_an_escaped_whitespace_ends_a_text(
    copied: bytes, ends: bool
) -> None:
    assert unescape(copied)[1] is ends


@pytest.mark.parametrize(
    ("row", "finished"),
    [
        (b"<t>a </t>", PRESERVED + b"a </t>"),
        (b"<t>a&#9;</t>", PRESERVED + b"a&#9;</t>"),
        (b"<t>a&#10;</t>", PRESERVED + b"a&#10;</t>"),
        (b"<t>a&#13;</t>", PRESERVED + b"a&#13;</t>"),
        (PRESERVED + b" a </t>", PRESERVED + b" a </t>"),  # already preserved
        (b"<t>a&amp;</t><t>b&gt;</t>", b"<t>a&amp;</t><t>b&gt;</t>"),
        (b"<t>&amp;#10;</t>", b"<t>&amp;#10;</t>"),  # the text "&#10;" is no LF
        (
            b"<t>x</t><t>y </t><t>z</t><t>w\t</t>",
            b"<t>x</t>" + PRESERVED + b"y </t><t>z</t><t>w\t</t>",
        ),
    ],
)
def test_text_ending_in_whitespace_is_preserved(row: bytes, finished: bytes) -> None:
    assert preserve_spaces(row) == finished


def test_blocks_without_anything_to_do_pass_unchanged() -> None:
    block = b'<row><c><v>1</v></c><c t="inlineStr"><is><t>plain</t></is></c></row>\n' * 100
    assert finish_rows(block) is block


def copied_cell(value: str) -> bytes:
    """What `sheet_sql` has COPY send for a text cell holding `value` (a model of it)."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char, escape in (
        ("\\", "\\\\"),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\t", "\\t"),
        ("\b", "\\b"),
        ("\f", "\\f"),
        ("\v", "\\v"),
    ):
        escaped = escaped.replace(char, escape)
    start = '<t xml:space="preserve">' if value[:1] in (" ", "\t", "\n", "\r") else "<t>"
    return f'<c t="inlineStr"><is>{start}{escaped}</t></is></c>'.encode()


@given(st.lists(st.text(TEXT, min_size=1), max_size=5))
def test_any_text_reads_back_as_it_was(values: list[str]) -> None:
    row = b"<row>" + b"".join(copied_cell(v) for v in values) + b"</row>\n"
    element = ET.fromstring(finish_rows(row))  # noqa: S314 (our own output, in a test)
    for cell, value in zip(element, values, strict=True):
        t = cell.find("is/t")
        assert t is not None
        assert t.text == as_sheet_holds(value)
        edges = value[:1] + value[-1:]
        if any(c in " \t\n\r" for c in edges):
            assert t.get("{http://www.w3.org/XML/1998/namespace}space") == "preserve"
