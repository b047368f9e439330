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

from exporter.sheet_sql import PRESERVE as SQL_PRESERVE

REPLACEMENT = "\ufffd".encode()
PRESERVE = SQL_PRESERVE.encode()  # the attribute the SQL puts on text starting with whitespace
# Controls that COPY's text format passes through raw (it escapes BS, TAB, LF, VT, FF, CR).
_RAW_CONTROLS = bytes(c for c in range(1, 32) if c not in b"\b\t\n\v\f\r")
_NON_CHARACTERS = ("\ufffe".encode(), "\uffff".encode())
_ILLEGAL = re.compile(b"[" + re.escape(_RAW_CONTROLS) + b"]|\xef\xbf[\xbe\xbf]")
# The bytes worth a second look: the raw controls, COPY's backslash, and the lead byte of
# U+FFFE and U+FFFF. `translate` deleting every other byte finds them in one pass.
_NOTABLE = set(_RAW_CONTROLS) | {ord("\\"), 0xEF}
_ALL_BUT_NOTABLE = bytes(c for c in range(256) if c not in _NOTABLE)
# A COPY escape, and whether it ends a text node (then the node may need preserving).
_ESCAPE = re.compile(rb"\\(.)(</t>)?")
_ESCAPES = {
    b"n": b"&#10;",
    b"r": b"&#13;",
    b"t": b"&#9;",
    b"b": REPLACEMENT,
    b"f": REPLACEMENT,
    b"v": REPLACEMENT,
    b"\\": b"\\",
}
_WHITESPACE_ESCAPES = frozenset(b"nrt")
# A text node's end after whitespace: the space itself or a reference to TAB, LF or CR.
_SPACE_END = b" </t>"
_REFERENCE_ENDS = (b"&#9;</t>", b"&#10;</t>", b"&#13;</t>")
_OPEN_TEXT = b"<t>"


def unescape(block: bytes) -> tuple[bytes, bool]:
    """`block` of COPY text-format lines with its escapes as XML and its illegal characters
    as U+FFFD, and whether an escaped TAB, LF or CR ends a text node.

    Each step costs a pass over the block (~50-150 us per 96 KiB here), so the common
    block, which needs none of them, costs one: the `translate` that finds the notable bytes.
    (Eight `bytes.replace` calls, one per escape, measured 1.2 ms per block.)
    """
    notable = block.translate(None, _ALL_BUT_NOTABLE)
    if not notable:
        return block, False
    if notable.translate(None, _RAW_CONTROLS) != notable or (
        b"\xef" in notable and any(c in block for c in _NON_CHARACTERS)
    ):
        block = _ILLEGAL.sub(REPLACEMENT, block)
    if b"\\" not in notable:
        return block, False
    ends = False

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal ends
        char, end = match.group(1, 2)
        if end is None:
            return _ESCAPES[char]
        ends = ends or char[0] in _WHITESPACE_ESCAPES
        return _ESCAPES[char] + end

    return _ESCAPE.sub(replace, block), ends


def preserve_spaces(block: bytes, *, references: bool = True) -> bytes:
    """`block` with `xml:space="preserve"` on every text node that ends in whitespace.

    `references`: whether a text node may end in a reference to TAB, LF or CR (`unescape`
    tells); without, one search for a space before `</t>` finds all there is to do.
    """
    # One `find` loop per needle: `re.finditer` over an alternation measured 0.7 ms a block.
    needles = (_SPACE_END, *_REFERENCE_ENDS) if references else (_SPACE_END,)
    ends: list[int] = []
    for needle in needles:
        at = block.find(needle)
        while at >= 0:
            ends.append(at)
            at = block.find(needle, at + len(needle))
    if not ends:
        return block
    ends.sort()
    parts: list[bytes] = []
    done = 0
    for end in ends:
        # `<` in text is escaped, so the last `<t` before the end tag is the start tag.
        start = block.rfind(b"<t", done, end)
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
    unescaped, references = unescape(block)
    return preserve_spaces(unescaped, references=references)
