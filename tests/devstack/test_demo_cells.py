"""The demo's sample rows mark a cut cell with an ellipsis."""

from __future__ import annotations

from devstack.demo import cell


def test_a_cell_that_fits_is_shown_whole() -> None:
    assert cell("SETTLED") == "SETTLED"
    assert cell("x" * 28) == "x" * 28
    assert cell(None) == "None"


def test_a_longer_cell_is_cut_and_ends_with_an_ellipsis() -> None:
    shown = cell("Payment for order 12345, with a long note", width=20)
    assert shown == "Payment for order 1…"
    assert len(shown) == 20
