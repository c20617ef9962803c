"""The report's renderers on hand-made report dicts (tests/unit/report_sample.py): CSV
read back figure for figure, HTML with its Thai labels and every name escaped, the PDF
with its Thai font embedded, and the PDF's first page as a PNG for a person to open:
``var/screenshots/report-daily.png`` and ``report-monthly.png``.

Nothing is skipped: without WeasyPrint, the Thai font or poppler-utils the test fails
and says what to install."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr.config import PROJECT_ROOT
from ivr.reports.charts import Series, half_hour_charts, plot
from ivr.reports.render_csv import csv_tables, write_csv
from ivr.reports.render_html import daily_html, monthly_html
from ivr.reports.render_pdf import PdfUnavailable, write_pdf
from tests.unit import report_sample

SCREENSHOTS = PROJECT_ROOT / "var" / "screenshots"
POPPLER = "pdftoppm and pdffonts are missing: apt-get install poppler-utils (scripts/test.sh does)"
THAI_FONT = "Laksaman"
INSTALL_FONT = "install fonts-tlwg-laksaman-otf (scripts/bootstrap.sh)"


def _read(path: Path) -> list[dict[str, str]]:
    """A CSV file back as rows keyed by the field name in each header's last brackets."""
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    keys = [re.findall(r"\(([^()]*)\)$", h)[0] for h in rows[0]]
    return [dict(zip(keys, r, strict=True)) for r in rows[1:]]


def _same(written: str, value: Any) -> bool:
    if value is None:
        return written == ""
    if isinstance(value, float):
        return float(written) == value
    return written == str(value)


def test_daily_csv_reads_back_figure_for_figure(tmp_path: Path) -> None:
    report = report_sample.daily()
    paths = write_csv(report, tmp_path, "r")
    assert [p.name for p in paths] == [
        "r-hotlines.csv", "r-queues.csv", "r-half-hours.csv", "r-menus.csv", "r-staffing.csv",
    ]  # fmt: skip
    hotlines = _read(tmp_path / "r-hotlines.csv")
    first = report["hotlines"][0]
    assert hotlines[0]["name"] == first["name"]
    for key, value in first["totals"].items():
        assert _same(hotlines[0][key], value), key
    assert hotlines[0]["calls.self_service"] == "48"
    assert hotlines[0]["probes.median_answer_s"] == "2.4"
    slots = _read(tmp_path / "r-half-hours.csv")
    assert len(slots) == 2 * 48  # both queues of 1111, every half hour
    for written, slot in zip(slots, first["queues"][0]["half_hours"], strict=False):
        assert all(_same(written[k], v) for k, v in slot.items()), slot["start"]
    staffing = _read(tmp_path / "r-staffing.csv")
    assert [r["needed"] for r in staffing] == [str(s["needed"]) for s in report["staffing"]]
    assert _read(tmp_path / "r-menus.csv")[1]["menu"] == report_sample.NASTY


def test_csv_headers_are_thai_with_the_field_in_brackets(tmp_path: Path) -> None:
    write_csv(report_sample.daily(), tmp_path, "r")
    with (tmp_path / "r-queues.csv").open(encoding="utf-8-sig") as f:
        head = next(csv.reader(f))
    assert "ระดับบริการ (service_level)" in head
    assert "รอเฉลี่ยก่อนรับ (ASA) (asa_s)" in head


def test_monthly_csv_has_the_hotlines_side_by_side_and_each_day(tmp_path: Path) -> None:
    report = report_sample.monthly()
    write_csv(report, tmp_path, "m")
    totals = _read(tmp_path / "m-hotlines.csv")
    assert [r["hotline"] for r in totals] == ["1111", "1555"]
    assert _same(totals[1]["service_level"], report["hotlines"][1]["totals"]["service_level"])
    days = _read(tmp_path / "m-days.csv")
    assert len(days) == 60
    assert days[30]["date"] == "2026-11-01" and days[30]["hotline"] == "1555"
    assert set(csv_tables(report)) == {"hotlines", "days"}


def test_daily_html_is_thai_first_with_the_figures() -> None:
    page = daily_html(report_sample.daily())
    assert page.startswith("<!DOCTYPE html>") and '<html lang="th">' in page
    for text in (
        "รายงานสายด่วนประจำวัน",
        "29 พฤศจิกายน 2569",
        "สร้างเมื่อ 30 พฤศจิกายน 2569 เวลา 06:05 น.",
        "ระดับบริการ",
        "71.7%",  # 109 within 30 s of 159 offered less 7 short abandons
        "12.5%",  # 19 abandoned of 152
        ">0:48<",  # ASA 47.6 s as m:ss
        ">3:22<",  # longest wait 202 s
        "47/48",  # probes answered
        "เจ้าหน้าที่ที่ต้องการเทียบกับที่มีจริง",
        "นิยามของตัวเลข",
        "Reports: definitions",
    ):
        assert text in page, text
    assert "30.0" not in page  # settings as written
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")


def test_html_escapes_every_name_from_the_report() -> None:
    for page in (daily_html(report_sample.daily()), monthly_html(report_sample.monthly())):
        assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in daily_html(report_sample.daily())


def test_monthly_html_compares_hotlines_side_by_side() -> None:
    page = monthly_html(report_sample.monthly())
    for text in ("รายงานสายด่วนประจำเดือน", "พฤศจิกายน 2569", "สายด่วนเทียบกัน", "อา. 1", "ส. 7"):
        assert text in page, text
    assert page.count("<svg") == 2


def test_chart_svg_has_no_thai_text_inside() -> None:
    """WeasyPrint draws SVG text a character at a time, which breaks Thai: every Thai
    word of a chart is HTML around it."""
    charts = half_hour_charts(report_sample.busy_half_hours(), report_sample.TARGETS)
    assert charts[0].title == "สายที่เข้าคิวและระดับบริการ รายครึ่งชั่วโมง"
    for c in charts:
        assert not re.search("[\u0e00-\u0e7f]", c.svg), c.title
        assert ">08:00<" in c.svg and ">16:00<" in c.svg and ">07:00<" not in c.svg
    assert half_hour_charts(report_sample.quiet_half_hours(), report_sample.TARGETS) == []
    svg = plot(["1", "2", "3"], [Series("x", [None, 1.0, 2.5], "#000", bar=False)], "s")
    assert svg.count("<circle") == 2 and ">0:05<" in svg


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """The daily and monthly PDFs, drawn once for the tests below (about a second)."""
    out = tmp_path_factory.mktemp("report")
    try:
        yield {
            "daily": write_pdf(daily_html(report_sample.daily()), out / "daily.pdf"),
            "monthly": write_pdf(monthly_html(report_sample.monthly()), out / "monthly.pdf"),
        }
    except PdfUnavailable as e:
        pytest.fail(str(e))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(POPPLER)
    return path


@pytest.mark.parametrize("kind", ["daily", "monthly"])
def test_pdf_embeds_the_thai_font(pdfs: dict[str, Path], kind: str) -> None:
    pdf = pdfs[kind]
    assert pdf.read_bytes().startswith(b"%PDF-")
    fonts = subprocess.run(
        [_tool("pdffonts"), str(pdf)], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    embedded = [line for line in fonts.splitlines() if THAI_FONT in line]
    assert embedded, f"no {THAI_FONT} in the PDF:\n{fonts}\n{INSTALL_FONT}"
    assert all(line.split()[-5] == "yes" for line in embedded), fonts  # the "emb" column


@pytest.mark.parametrize("kind", ["daily", "monthly"])
def test_pdf_first_page_as_png_for_a_person(pdfs: dict[str, Path], kind: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    stem = SCREENSHOTS / f"report-{kind}"
    subprocess.run(
        [_tool("pdftoppm"), "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile",
         str(pdfs[kind]), str(stem)],
        check=True, timeout=60,
    )  # fmt: skip
    png = stem.with_suffix(".png")
    assert png.read_bytes().startswith(b"\x89PNG") and png.stat().st_size > 20_000
