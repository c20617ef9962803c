"""Hotline files: loading, and every problem the checker reports, with its line."""

from __future__ import annotations

import textwrap
from collections.abc import Set as AbstractSet
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ivr.menus.hours import Window
from ivr.menus.loader import MenuError, Problem, check_all, load_all, load_hotline
from ivr.menus.model import (
    Back,
    GoMenu,
    Goodbye,
    PlayInfo,
    Repeat,
    SetLanguage,
    ToQueue,
    Transfer,
)
from tests.unit.shipped import HOTLINES, PROMPTS

# A small valid file; tests below copy it and change one thing.
MINIMAL = """\
hotline: "1234"
name_th: ทดสอบ
default_queue: operator
greeting: greeting-1111
queues:
  operator: {topic: operator}
menus:
  main:
    prompt: menu-main-1111
    options:
      "0": {queue: operator}
"""


def write(folder: Path, text: str, name: str = "1234.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def check(
    tmp_path: Path, text: str, name: str = "1234.yaml", audio: AbstractSet[str] | None = None
) -> list[Problem]:
    folder = tmp_path / "hotlines"
    write(folder, text, name)
    return check_all(folder, PROMPTS, audio)


def found(problems: list[Problem]) -> list[tuple[int, str]]:
    return [(p.line, p.message) for p in problems]


def assert_problems(problems: list[Problem], *expected: tuple[int, str]) -> None:
    """Exactly these problems: (line, a piece of the message), in line order."""
    got = found(problems)
    assert len(got) == len(expected), got
    for (line, message), (want_line, piece) in zip(got, expected, strict=True):
        assert line == want_line, got
        assert piece in message, got
    for p in problems:
        assert p.fix, p


# -- loading ------------------------------------------------------------------


def test_minimal_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL)
    h = load_hotline(path, PROMPTS)
    assert h.id == "1234" and h.name_th == "ทดสอบ" and h.name_en == ""
    assert h.languages == ("th",)
    assert h.start == "main"
    assert h.hours.always_open and h.closed is None and h.emergency is None
    assert len(h.version) == 12
    assert h.source == str(path)
    main = h.menus["main"]
    assert (main.timeout_s, main.retries, main.repeat_key) == (5.0, 3, "9")
    assert main.line == 8
    # the queue's topic is the default topic; transfer-to-queue the default prompt
    assert main.options["0"] == ToQueue("operator", "operator", "transfer-to-queue")
    assert main.options["0"].line == 11
    assert main.on_fail == ToQueue("operator", "operator", "transfer-to-operator")


def test_version_follows_the_file(tmp_path: Path) -> None:
    a = load_hotline(write(tmp_path / "a", MINIMAL), PROMPTS)
    b = load_hotline(write(tmp_path / "b", MINIMAL + "# a comment\n"), PROMPTS)
    assert a.version != b.version


def test_every_action_and_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        hotline: "1234"
        name_th: ทดสอบ
        name_en: Test
        languages: [th, en]
        default_queue: operator
        greeting: greeting-1111
        emergency: goodbye
        start: top
        queues:
          operator: {topic: operator, label: เจ้าหน้าที่}
          complaint:
        transfers:
          police: "191"
        defaults:
          timeout: 7
          retries: 2
          repeat_key: "#"
          on_fail: goodbye
        menus:
          top:
            prompt: menu-main-1111
            options:
              1: {info: info-services-1111}
              "2": {queue: complaint, topic: complaint, prompt: transfer-to-operator}
              "3": {menu: sub}
              "4": {transfer: police}
              "5": {transfer: "1300"}
              "6": goodbye
              "7": {goodbye: closed-1111}
              "8": {language: en}
              "*": repeat
          sub:
            prompt: menu-track-1111
            timeout: 3.5
            retries: 0
            repeat_key: null
            on_fail: {transfer: police, prompt: transfer-number}
            options:
              "0": back
              "*": back
        """,
    )
    h = load_hotline(path, PROMPTS)
    assert h.name_en == "Test" and h.languages == ("th", "en")
    assert h.emergency == "goodbye"
    assert h.start == "top" and h.transfers == {"police": "191"}
    assert h.queues["operator"].label == "เจ้าหน้าที่"
    assert h.queues["complaint"].topic == ""
    top, sub = h.menus["top"], h.menus["sub"]
    assert (top.timeout_s, top.retries, top.repeat_key, top.on_fail) == (7, 2, "#", Goodbye())
    assert top.options == {
        "1": PlayInfo("info-services-1111"),
        "2": ToQueue("complaint", "complaint", "transfer-to-operator"),
        "3": GoMenu("sub"),
        "4": Transfer("police", "transfer-number", "191"),
        "5": Transfer("1300", "transfer-number", "1300"),
        "6": Goodbye("goodbye"),
        "7": Goodbye("closed-1111"),
        "8": SetLanguage("en"),
        "*": Repeat(),
    }
    assert top.options["4"].line == 26
    assert (sub.timeout_s, sub.retries, sub.repeat_key) == (3.5, 0, None)
    assert sub.on_fail == Transfer("police", "transfer-number", "191")
    assert sub.options == {"0": Back(), "*": Back()}


def test_business_hours_are_loaded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL
        + """\
hours:
  holidays: thai
  weekly:
    mon-thu: "08:30-16:30"
    fri: ["08:30-12:00", "13:00-15:00"]
    sat: 09:00-12:00
  closed_dates: ["2026-11-20", 2026-11-27]
  open_dates:
    - "2026-12-10"
    - "2026-11-22 10:00-11:00"
closed:
  prompt: closed-1111
  holiday_prompt: holiday-closed
  then: {queue: operator, topic: after-hours}
""",
    )
    h = load_hotline(path, PROMPTS)
    office = Window.parse("08:30-16:30")
    assert h.hours.weekly[0] == (office,)
    assert h.hours.weekly[4] == (Window.parse("08:30-12:00"), Window.parse("13:00-15:00"))
    assert h.hours.weekly[5] == (Window.parse("09:00-12:00"),)
    assert h.hours.weekly[6] == ()
    assert h.hours.closed_dates == {date(2026, 11, 20), date(2026, 11, 27)}
    # an open date without hours takes its weekday's hours (10 Dec 2026 is a Thursday)
    assert dict(h.hours.open_dates) == {
        date(2026, 12, 10): (office,),
        date(2026, 11, 22): (Window.parse("10:00-11:00"),),
    }
    assert h.closed is not None
    assert h.closed.then == ToQueue("operator", "after-hours", "transfer-to-queue")
    assert h.closed.holiday_prompt == "holiday-closed"
    bkk = ZoneInfo("Asia/Bangkok")
    assert h.hours.is_open(datetime(2026, 12, 10, 9, tzinfo=bkk))  # Constitution Day, open
    assert not h.hours.is_open(datetime(2026, 11, 20, 9, tzinfo=bkk))  # closed date


def test_shipped_hotlines_load_cleanly() -> None:
    assert check_all(HOTLINES, PROMPTS, PROMPTS) == []
    hotlines = load_all(HOTLINES, PROMPTS, PROMPTS)
    assert set(hotlines) >= {"1111", "1555"}
    used: set[str] = set()
    for h in hotlines.values():
        used |= h.prompts()
    assert used <= PROMPTS


def test_shipped_1111() -> None:
    h = load_hotline(HOTLINES / "1111.yaml", PROMPTS)
    assert h.hours.always_open and h.default_queue == "operator"
    assert h.greeting == "greeting-1111" and h.languages == ("th", "en")
    main, track = h.menus["main"], h.menus["track"]
    assert main.prompt == "menu-main-1111" and main.timeout_s == 5 and main.retries == 3
    assert main.repeat_key == "9"
    assert main.options == {
        "1": PlayInfo("info-services-1111"),
        "2": ToQueue("complaint", "complaint", "transfer-to-queue"),
        "3": GoMenu("track"),
        "8": SetLanguage("en"),
        "0": ToQueue("operator", "operator", "transfer-to-operator"),
    }
    assert track.options == {
        "1": ToQueue("complaint", "track-complaint", "transfer-to-queue"),
        "2": PlayInfo("info-track-web-1111"),
        "*": Back(),
    }
    assert main.on_fail == ToQueue("operator", "operator", "transfer-to-operator")


def test_shipped_1555() -> None:
    h = load_hotline(HOTLINES / "1555.yaml", PROMPTS)
    bkk = ZoneInfo("Asia/Bangkok")
    assert not h.hours.always_open and h.hours.holidays == "thai"
    assert h.hours.is_open(datetime(2026, 11, 16, 8, 30, tzinfo=bkk))  # Monday
    assert not h.hours.is_open(datetime(2026, 11, 21, 10, tzinfo=bkk))  # Saturday
    assert not h.hours.is_open(datetime(2026, 4, 13, 10, tzinfo=bkk))  # Songkran
    assert h.closed is not None and h.closed.prompt == "closed-1555"


# -- problems -----------------------------------------------------------------


def test_problem_text() -> None:
    p = Problem("dialplans/hotlines/1111.yaml", 12, "unknown key `promt`", "did you mean `prompt`?")
    assert str(p) == (
        "dialplans/hotlines/1111.yaml:12: unknown key `promt` — did you mean `prompt`?"
    )
    assert str(Problem("x.yaml", 0, "the file is empty")) == "x.yaml: the file is empty"


def test_load_raises_with_every_problem(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("prompt:", "promt:").replace('"0"', '"x"'))
    with pytest.raises(MenuError) as e:
        load_hotline(path, PROMPTS)
    assert [p.line for p in e.value.problems] == [8, 9, 11]
    assert str(e.value).splitlines()[0].startswith(f"{path}:8: ")


@pytest.mark.parametrize(
    ("text", "line", "piece"),
    [
        ("hotline: '1234'\nmenus:\n  main:\n   x: 1\n  y: 2\n    z: 3\n", 6, "mapping values"),
        ('hotline: "1234"\nmenus:\n  main:\n    options:\n      *: back\n', 5, "alias"),
        ('hotline: "1234"\nqueues: [operator\nmenus: {}\n', 3, "flow sequence"),
        ('hotline: "1234"\n\tname_th: x\n', 2, "'\\t'"),
        ('hotline: "1234"\n---\nname_th: x\n', 2, "single document"),
        ('hotline: "1234"\nname_th: "x\n', 3, "quoted scalar"),
    ],
)
def test_yaml_syntax_errors(tmp_path: Path, text: str, line: int, piece: str) -> None:
    problems = check(tmp_path, text)
    assert_problems(problems, (line, "YAML syntax error"))
    assert piece in problems[0].message


def test_files_that_are_not_hotlines(tmp_path: Path) -> None:
    assert_problems(check(tmp_path / "a", ""), (0, "empty"))
    assert_problems(check(tmp_path / "b", "- 1\n- 2\n"), (1, "must be a mapping"))
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "1234.yaml").write_bytes(b'hotline: "1234"\nname_th: \xff\xfe\n')
    assert_problems(check_all(folder, PROMPTS), (2, "not UTF-8"))
    assert_problems(check_all(tmp_path / "missing", PROMPTS), (0, "no such folder"))
    (tmp_path / "empty").mkdir()
    assert_problems(check_all(tmp_path / "empty", PROMPTS), (0, "no hotline files"))


def test_unknown_keys_with_suggestions(tmp_path: Path) -> None:
    text = MINIMAL.replace("    prompt:", "    promt:").replace("default_queue", "default_qeue")
    text += "colour: blue\n"
    problems = check(tmp_path, text)
    assert_problems(
        problems,
        (1, "has no `default_queue`"),
        (3, "unknown key `default_qeue`"),
        (8, "menu `main` has no `prompt`"),
        (9, "unknown key `promt` in menu `main`"),
        (12, "unknown key `colour`"),
    )
    assert problems[1].fix == "did you mean `default_queue`?"
    assert problems[3].fix == "did you mean `prompt`?"
    assert "the keys of the hotline file are" in problems[4].fix


def test_missing_required_keys(tmp_path: Path) -> None:
    problems = check(tmp_path, 'hotline: "1234"\nname_th: x\n')
    assert_problems(
        problems,
        (1, "no `default_queue`"),
        (1, "no `greeting`"),
        (1, "no `queues`"),
        (1, "no `menus`"),
    )
    problems = check(
        tmp_path / "x",
        MINIMAL + "hours:\n  weekly: {mon: '08:00-12:00'}\nclosed:\n  then: goodbye\n",
    )
    assert_problems(problems, (14, "closed has no `prompt`"))


def test_wrong_types(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "    prompt: menu-main-1111\n",
        "    prompt: [menu-main-1111]\n    timeout: five\n    retries: 2.5\n",
    ).replace("name_th: ทดสอบ", "name_th: {th: ทดสอบ}")
    text += "languages: [th, 1]\nhours:\n  always_open: 'yes'\n"
    problems = check(tmp_path, text)
    assert_problems(
        problems,
        (2, "name_th must be text, not a mapping"),
        (9, "prompt must be text, not a list"),
        (10, "timeout must be a number, not text"),
        (11, "retries must be a whole number, not a number"),
        (14, "language `1`"),
        (16, "always_open must be true or false, not text"),
    )


def test_out_of_range_numbers(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        "    prompt: menu-main-1111\n",
        "    prompt: menu-main-1111\n    timeout: 0\n    retries: 11\n",
    )
    assert_problems(check(tmp_path, text), (10, "timeout is 0"), (11, "retries is 11"))


def test_options_must_be_a_mapping(tmp_path: Path) -> None:
    text = MINIMAL.replace('      "0": {queue: operator}\n', "      - 1\n")
    assert_problems(check(tmp_path, text), (11, "options must be a mapping, not a list"))


def test_unknown_targets(tmp_path: Path) -> None:
    text = """\
    hotline: "1234"
    name_th: ทดสอบ
    default_queue: operatr
    greeting: greeting-1111
    start: mian
    queues:
      operator:
    transfers:
      police: "191"
    menus:
      main:
        prompt: menu-main-1111
        options:
          "1": {menu: trak}
          "2": {queue: complain}
          "3": {transfer: polise}
          "4": {language: en}
          "5": {menu: main, topic: x}
          "6": {queue: operator, menu: main}
          "7": jump
          "0": {queue: operator}
    """
    problems = check(tmp_path, text)
    assert_problems(
        problems,
        (3, "default_queue `operatr` is not declared"),
        (5, "the start menu `mian` is not defined"),
        (14, "menu `trak` is not defined"),
        (15, "queue `complain` is not declared in `queues:`"),
        (16, "transfer `polise` is not declared in `transfers:`"),
        (17, "language `en` is not one of this hotline's languages"),
        (18, "`topic` does not apply to a `menu` action"),
        (19, "exactly one action"),
        (20, "unknown action `jump`"),
    )
    assert problems[2].fix == "define it under `menus:` (defined: main)"
    assert problems[3].fix == "add it under `queues:` (declared: operator)"
    assert problems[4].fix == "did you mean `police`?"


def test_unreachable_menus(tmp_path: Path) -> None:
    text = MINIMAL + (
        "  orphan:\n"
        "    prompt: menu-track-1111\n"
        "    options:\n"
        '      "1": {menu: orphan2}\n'
        "  orphan2:\n"
        "    prompt: menu-track-1111\n"
        "    options:\n"
        '      "1": {menu: orphan}\n'
    )
    problems = check(tmp_path, text)
    assert_problems(
        problems,
        (12, "menu `orphan` cannot be reached from the start menu `main`"),
        (16, "menu `orphan2` cannot be reached"),
    )


def test_duplicate_digits(tmp_path: Path) -> None:
    text = MINIMAL + "      1: {queue: operator}\n" + '      "1": {info: info-services-1111}\n'
    problems = check(tmp_path, text)
    assert_problems(problems, (13, "`1` is given twice in menu `main`: options (first at line 12)"))


def test_duplicate_keys_anywhere(tmp_path: Path) -> None:
    text = MINIMAL + "greeting: greeting-1555\n"
    assert_problems(check(tmp_path, text), (12, "`greeting` is given twice in the hotline file"))


def test_invalid_digits(tmp_path: Path) -> None:
    text = MINIMAL + '      "12": {queue: operator}\n' + "      a: {queue: operator}\n"
    problems = check(tmp_path, text)
    assert_problems(problems, (12, "`12` is not a phone key"), (13, "`a` is not a phone key"))


def test_star_rules(tmp_path: Path) -> None:
    text = """\
    hotline: "1234"
    name_th: ทดสอบ
    default_queue: operator
    greeting: greeting-1111
    queues:
      operator:
    menus:
      main:
        prompt: menu-main-1111
        options:
          "*": back
          "1": {menu: sub}
      sub:
        prompt: menu-track-1111
        options:
          "*": {queue: operator}
          "0": back
    """
    problems = check(tmp_path, text)
    assert_problems(
        problems,
        (11, "`back` in the start menu has nowhere to go"),
        (16, 'key "*" is reserved for going back in a submenu'),
    )


def test_star_may_be_an_option_of_the_start_menu(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + '      "*": {queue: operator}\n      "#": repeat\n')
    assert set(load_hotline(path, PROMPTS).menus["main"].options) == {"0", "*", "#"}


def test_repeat_key_collisions(tmp_path: Path) -> None:
    text = """\
    hotline: "1234"
    name_th: ทดสอบ
    default_queue: operator
    greeting: greeting-1111
    queues:
      operator:
    menus:
      main:
        prompt: menu-main-1111
        options:
          "9": {queue: operator}
          "1": {menu: sub}
          "2": {menu: other}
      sub:
        prompt: menu-track-1111
        repeat_key: "1"
        options:
          "1": {queue: operator}
      other:
        prompt: menu-track-1111
        repeat_key: "*"
        options:
          "1": {queue: operator}
    """
    problems = check(tmp_path, text)
    assert_problems(
        problems,
        (11, "key `9` is both the repeat key and an option"),
        (16, "key `1` is both the repeat key and an option"),
        (21, "the repeat key `*` is reserved for going back"),
    )
    assert "repeat_key" in problems[0].fix


def test_repeat_key_option_and_free_repeat_key(tmp_path: Path) -> None:
    text = MINIMAL + '      "9": repeat\n'
    assert check(tmp_path / "a", text) == []
    text = MINIMAL.replace("    options:", "    repeat_key: null\n    options:") + (
        '      "9": {queue: operator}\n'
    )
    assert check(tmp_path / "b", text) == []
    text = MINIMAL.replace("    options:", '    repeat_key: "10"\n    options:')
    assert_problems(check(tmp_path / "c", text), (10, "repeat_key `10` is not a phone key"))


def test_on_fail_and_closed_must_end_the_menu(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace("    options:", "    on_fail: {menu: main}\n    options:")
        + "defaults:\n  on_fail: back\n"
    )
    problems = check(tmp_path, text)
    assert_problems(
        problems,
        (10, "menu `main`: on_fail must end the call's menu"),
        (14, "defaults: on_fail must end the call's menu"),
    )


def test_prompts_missing_from_the_catalogue(tmp_path: Path) -> None:
    text = (
        MINIMAL.replace("greeting-1111", "greeting-9999")
        .replace("menu-main-1111", "menu-main-111")
        .replace('"0": {queue: operator}', '"0": {info: Info-Page}')
        + '      "1": {info: info-new-page}\n'
        + '      "2": {info: info-new-page}\n'
    )
    problems = check(tmp_path, text)
    assert_problems(
        problems,
        (4, "prompt `greeting-9999` is not in the prompt catalogue"),
        (9, "prompt `menu-main-111` is not in the prompt catalogue"),
        (11, "`Info-Page` is not a prompt id"),
        (12, "prompt `info-new-page` is not in the prompt catalogue"),
    )
    assert problems[1].fix == "did you mean `menu-main-1111`?"
    # system prompts the engine plays are checked too, at their first use
    few = {"greeting-1111", "menu-main-1111"}
    path = write(tmp_path / "sys", MINIMAL)
    with pytest.raises(MenuError) as e:
        load_hotline(path, few)
    assert found(e.value.problems) == [
        (8, "prompt `invalid-option` is not in the prompt catalogue"),
        (8, "prompt `no-input` is not in the prompt catalogue"),
        (8, "prompt `transfer-to-operator` is not in the prompt catalogue"),
        (11, "prompt `transfer-to-queue` is not in the prompt catalogue"),
    ]


def test_prompts_without_audio(tmp_path: Path) -> None:
    audio = PROMPTS - {"menu-main-1111", "no-input"}
    problems = check(tmp_path, MINIMAL, audio=audio)
    assert_problems(
        problems,
        (8, "prompt `no-input` has no recorded audio"),
        (9, "prompt `menu-main-1111` has no recorded audio"),
    )
    assert "sounds/<lang>/ivr/menu-main-1111.wav" in problems[1].fix
    assert check(tmp_path / "all", MINIMAL, audio=PROMPTS) == []


def test_invalid_business_hours(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + """\
hours:
  timezone: Asia/Bangkk
  holidays: thailand
  weekly:
    mon-fry: "08:30-16:30"
    tue: "16:30-08:30"
    wed: ["08:00-12:00", "11:00-16:00"]
    thu: "8.30-16.30"
    fri: "08:00-12:00, 13:00-17:00"
    sat: "08:00-12:00"
    sat-sun: "13:00-14:00"
  closed_dates: ["2026-02-30", "2026-12-31"]
  open_dates:
    - "2026-11-22"
    - "2026-12-31 09:00-12:00"
    - "2026-11-29 09:00-12:00, 11:00-13:00"
closed:
  prompt: closed-1111
"""
    )
    problems = check(tmp_path, text)
    assert_problems(
        problems,
        (13, "unknown time zone `Asia/Bangkk`"),
        (14, "hours: holidays is `thailand`"),
        (16, "`mon-fry` is not a day"),
        (17, "the end must be after the start"),
        (18, "windows 08:00-12:00 and 11:00-16:00 overlap"),
        (19, "`8.30-16.30` is not a window"),
        (22, "sat is given twice in hours: weekly (first at line 21)"),
        (23, "`2026-02-30` is not a date"),
        (25, "2026-11-22 is a sun, which has no weekly hours"),
        (26, "2026-12-31 is both a closed date (line 23) and an open date"),
        (27, "overlap"),
    )
    assert problems[0].fix == "use a tz database name such as Asia/Bangkok"
    assert problems[2].fix == "did you mean `mon-fri`?"


def test_hours_without_closed_section_or_opening(tmp_path: Path) -> None:
    text = MINIMAL + "hours:\n  weekly:\n    mon-fri: '08:30-16:30'\n"
    assert_problems(check(tmp_path / "a", text), (12, "no `closed:` section"))
    text = MINIMAL + "hours:\n  holidays: none\nclosed:\n  prompt: closed-1111\n"
    assert_problems(check(tmp_path / "b", text), (12, "the hotline is never open"))
    text = MINIMAL + "hours:\n  always_open: true\n"
    assert check(tmp_path / "c", text) == []


def test_hotline_id_must_match_the_file_name(tmp_path: Path) -> None:
    problems = check(tmp_path, MINIMAL, name="1111.yaml")
    assert_problems(problems, (1, "hotline `1234` does not match the file name `1111.yaml`"))
    assert problems[0].fix == 'set `hotline: "1111"` or rename the file to 1234.yaml'


def test_duplicate_hotline_ids_across_files(tmp_path: Path) -> None:
    folder = tmp_path / "hotlines"
    write(folder, MINIMAL, "1234.yaml")
    write(folder, MINIMAL, "1234.yml")
    problems = check_all(folder, PROMPTS)
    assert [(Path(p.file).name, p.line) for p in problems] == [("1234.yml", 1)]
    assert "hotline `1234` is also defined in" in problems[0].message
    assert problems[0].message.endswith("1234.yaml")
    with pytest.raises(MenuError):
        load_all(folder, PROMPTS)


def test_problems_from_every_file_are_collected(tmp_path: Path) -> None:
    folder = tmp_path / "hotlines"
    write(folder, MINIMAL, "1234.yaml")
    write(folder, MINIMAL.replace("1234", "5678").replace("prompt:", "promt:"), "5678.yaml")
    write(folder, "hotline: [\n", "9999.yaml")
    problems = check_all(folder, PROMPTS)
    assert [(Path(p.file).name, p.line) for p in problems] == [
        ("5678.yaml", 8),
        ("5678.yaml", 9),
        ("9999.yaml", 2),
    ]
    with pytest.raises(MenuError) as e:
        load_all(folder, PROMPTS)
    assert len(e.value.problems) == 3


def test_load_all_by_id(tmp_path: Path) -> None:
    folder = tmp_path / "hotlines"
    write(folder, MINIMAL, "1234.yaml")
    write(folder, MINIMAL.replace('"1234"', '"5678"'), "5678.yaml")
    (folder / "notes.txt").write_text("not a hotline")
    assert sorted(load_all(folder, PROMPTS)) == ["1234", "5678"]
