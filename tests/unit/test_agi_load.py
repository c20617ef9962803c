"""The bench's Asterisk-like replies are AGI replies as the server's own parser reads them."""

from __future__ import annotations

from bench.agi_load import answer
from ivr.agi.replies import parse_line


def test_replies_parse_and_press_the_digits() -> None:
    digits = list("-3")
    greeting = parse_line(answer('STREAM FILE "ivr/greeting-1111" "0123456789*#"', digits))
    assert (greeting.result, greeting.endpos) == ("0", 16000)  # heard to its end
    menu = parse_line(answer('STREAM FILE "ivr/menu-main-1111" "0123456789*#"', digits))
    assert (menu.result_int, menu.endpos) == (ord("3"), 8000)
    assert parse_line(answer("WAIT FOR DIGIT 5000", digits)).result == "0"  # no key left
    assert parse_line(answer('GET DATA "x" 3000 4', list("12"))).result == "12"
    assert parse_line(answer('SET VARIABLE IVR_RESULT "queue"', digits)).result == "1"
