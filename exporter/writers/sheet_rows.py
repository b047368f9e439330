"""The client's half of rendering a sheet's rows: what PostgreSQL leaves to be done per block.

`exporter/sheet_sql.py` has PostgreSQL write each row's SpreadsheetML through `COPY` in text
format, with only `&`, `<` and `>` escaped. Three things remain, each done here on a whole
block of lines by a few scans in C (`bytes.translate`, `bytes.replace`, `re`) rather than per
cell in SQL, where they were 40% of PostgreSQL's time:

- COPY's escapes: `\\n`, `\\r`, `\\t` in text become the character references `&#10;`,
  `&#13;`, `&#9;` (a raw CR would be folded into LF by every XML parser); `\\b`, `\\f`, `\\v`
  become U+FFFD, as XML 1.0 cannot carry those controls even as references; `\\\\` is a
  backslash. Markup never holds a backslash, so every backslash in a block is COPY's.
- The other control characters, which COPY passes raw, and the non-characters U+FFFE and
  U+FFFF become U+FFFD. Most blocks hold none: one `translate` finds that out.
- Text that ends in whitespace gets `xml:space="preserve"` (the SQL marks text that starts
  with it): a spreadsheet would trim it otherwise. Only the escaped text shows where a
  value ends, so this runs after the escapes.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd".encode()
PRESERVE = b' xml:space="preserve"'
# Controls that COPY's text format passes through raw (it escapes BS, TAB, LF, VT, FF, CR).
_RAW_CONTROLS = bytes(c for c in range(1, 32) if c not in b"\b\t\n\v\f\r")
_ILLEGAL = re.compile(b"[" + re.escape(_RAW_CONTROLS) + b"]|\xef\xbf[\xbe\xbf]")
_NON_CHARACTER_LEAD = b"\xef\xbf"  # UTF-8 of U+FFC0..U+FFFF, U+FFFE and U+FFFF among them
# COPY text-format escapes (after a backslash) and what they become in XML.
_ESCAPES = (
    (b"\\n", b"&#10;"),
    (b"\\r", b"&#13;"),
    (b"\\t", b"&#9;"),
    (b"\\b", REPLACEMENT),
    (b"\\f", REPLACEMENT),
    (b"\\v", REPLACEMENT),
)
_BACKSLASH = b"\x00"  # stands for an escaped backslash meanwhile: NUL is never in text
# A text node's end after whitespace: the space itself or a reference to TAB, LF or CR.
_TRAILING_SPACE = re.compile(rb"(?: |&#9;|&#10;|&#13;)</t>")
_OPEN_TEXT = b"<t>"


def unescape(block: bytes) -> bytes:
    """`block` of COPY text-format lines with its escapes as XML and its illegal characters
    as U+FFFD."""
    if len(block.translate(None, _RAW_CONTROLS)) != len(block) or _NON_CHARACTER_LEAD in block:
        block = _ILLEGAL.sub(REPLACEMENT, block)
    if b"\\" in block:
        # `\\` first, so that the backslash it stands for starts no escape.
        block = block.replace(b"\\\\", _BACKSLASH)
        for escape, xml in _ESCAPES:
            block = block.replace(escape, xml)
        block = block.replace(_BACKSLASH, b"\\")
    return block


def preserve_spaces(block: bytes) -> bytes:
    """`block` with `xml:space="preserve"` on every text node that ends in whitespace."""
    if b" </t>" not in block and b";</t>" not in block:
        return block
    parts: list[bytes] = []
    done = 0
    for match in _TRAILING_SPACE.finditer(block):
        # `<` in text is escaped, so the last `<t` before the end tag is the start tag.
        start = block.rfind(b"<t", done, match.start())
        if start < 0 or not block.startswith(_OPEN_TEXT, start):
            continue  # already preserved (it also starts with whitespace)
        parts += (block[done : start + 2], PRESERVE)
        done = start + 2
    if not parts:
        return block
    parts.append(block[done:])
    return b"".join(parts)


def finish_rows(block: bytes) -> bytes:
    """A block of `sheet_sql` COPY lines as the sheet XML it stands for."""
    return preserve_spaces(unescape(block))
