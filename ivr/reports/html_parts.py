"""The pieces a report page is made of (pure): the page with its style, tables, charts
and footnotes, every value from the report escaped. One HTML for the browser and for
the PDF (WeasyPrint reads the ``@page`` rules: A4 portrait, page numbers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from ivr.reports.charts import Chart
from ivr.reports.labels import FOOTNOTES, cell, number

__all__ = ["chart", "e", "footnotes", "page", "table", "transposed"]

# Laksaman is a Sarabun-style face (the Thai government's document font) shipped by
# Debian (fonts-tlwg-laksaman-otf); the others are there for machines that have them.
FONTS = '"Laksaman", "TH Sarabun New", "Sarabun", "Loma", "Noto Sans Thai", sans-serif'

STYLE = f"""
@page {{ size: A4 portrait; margin: 14mm 12mm 16mm 12mm;
  @bottom-left {{ content: string(title); font: 9pt {FONTS}; color: #666; }}
  @bottom-right {{ content: "หน้า " counter(page) " / " counter(pages);
    font: 9pt {FONTS}; color: #666; }} }}
body {{ font-family: {FONTS}; font-size: 12.5pt; color: #222; line-height: 1.35; }}
@media screen {{ body {{ max-width: 1100px; margin: 24px auto; padding: 0 16px; }} }}
h1 {{ font-size: 21pt; margin: 0; string-set: title content(); }}
h1 small {{ display: block; font-size: 15pt; font-weight: normal; }}
h2 {{ font-size: 16pt; margin: 14px 0 4px; border-bottom: 2px solid #1f5fa8; }}
h3 {{ font-size: 13.5pt; margin: 10px 0 2px; }}
p.meta {{ color: #555; margin: 4px 0 10px; }}
table {{ border-collapse: collapse; width: 100%; font-size: 11pt; margin: 4px 0 10px; }}
thead {{ display: table-header-group; }}
tr {{ break-inside: avoid; }}
th, td {{ border: 1px solid #c8c8c8; padding: 1px 5px; }}
th {{ background: #eaf1fa; text-align: center; font-weight: bold; font-size: 10.5pt; }}
td.n {{ text-align: right; white-space: nowrap; }}
tr.short td {{ background: #fdecea; }}
figure {{ margin: 6px 0 12px; break-inside: avoid; }}
figcaption {{ font-weight: bold; }}
figure svg {{ width: 100%; height: auto; display: block; }}
.legend {{ font-size: 10.5pt; color: #333; }}
.key {{ display: inline-block; width: 14px; height: 10px; margin: 0 4px 0 12px; }}
.key.line {{ height: 0; border-top: 3px solid; vertical-align: middle; }}
.key.dashed {{ height: 0; border-top: 2px dashed; vertical-align: middle; }}
.note {{ color: #666; font-size: 10pt; }}
section.detail {{ break-before: page; }}
footer {{ margin-top: 14px; font-size: 10.5pt; color: #444; break-inside: avoid; }}
footer dt {{ font-weight: bold; float: left; clear: left; margin-right: 6px; }}
footer dd {{ margin: 0 0 2px 0; }}
"""


def e(value: Any) -> str:
    """Any value as HTML text, escaped."""
    return escape("" if value is None else str(value))


def page(title: str, body: str) -> str:
    """A whole self-contained HTML document (Thai, UTF-8, its style inside)."""
    return (
        '<!DOCTYPE html>\n<html lang="th">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def table(
    columns: Sequence[tuple[str, str, str]],
    rows: Sequence[Mapping[str, Any]],
    row_class: Mapping[int, str] | None = None,
) -> str:
    """A table: one column per (key, Thai label, kind), one row per mapping."""
    head = "".join(f"<th>{e(label)}</th>" for _, label, _ in columns)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{e(row_class[i])}"' if row_class and i in row_class else ""
        tds = "".join(
            f'<td class="{"label" if kind == "text" else "n"}">{e(cell(kind, row.get(key)))}</td>'
            for key, _, kind in columns
        )
        body.append(f"<tr{cls}>{tds}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def transposed(
    figures: Sequence[tuple[str, str, str]],
    columns: Sequence[tuple[str, Mapping[str, Any]]],
) -> str:
    """A table with one ROW per figure and one column per (heading, figures) — things
    side by side (queues of a hotline, hotlines of a month)."""
    head = "<th>ตัวชี้วัด</th>" + "".join(f"<th>{e(title)}</th>" for title, _ in columns)
    body = "".join(
        f'<tr><td class="label">{e(label)}</td>'
        + "".join(f'<td class="n">{e(cell(kind, fig.get(key)))}</td>' for _, fig in columns)
        + "</tr>"
        for key, label, kind in figures
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def chart(c: Chart, caption: str = "") -> str:
    """A chart: its Thai title and legend as HTML around its SVG (see charts.py)."""
    keys = "".join(
        f'<span class="key {e(look)}" style="background: {"none" if look != "bar" else e(color)};'
        f' border-color: {e(color)}"></span>{e(label)}'
        for color, label, look in c.legend
    )
    note = f' <span class="note">({e(c.note)})</span>' if c.note else ""
    title = f"{e(caption)} · {e(c.title)}" if caption else e(c.title)
    return (
        f"<figure><figcaption>{title}</figcaption>\n{c.svg}\n"
        f'<div class="legend">{keys}{note}</div></figure>'
    )


def footnotes(targets: Mapping[str, Any]) -> str:
    """The definitions of the figures, short (the README's "Reports: definitions" has
    them in full), and the default targets (a queue with its own says them itself)."""
    sl_s = number(targets.get("service_level_s", 30))
    short = number(targets.get("short_abandon_s", 5))
    items = "".join(f"<dt>{e(term)}</dt><dd>{e(text)}</dd>" for term, text in FOOTNOTES)
    return (
        "<footer><h3>นิยามของตัวเลข</h3>"
        f"<p>เป้าระดับบริการ (ค่าเริ่มต้น): รับสายภายใน {e(sl_s)} วินาที · "
        f"วางสายเร็ว: วางภายใน {e(short)} วินาทีหลังเข้าคิว · "
        "คิวที่ตั้งเป้าของตัวเองนับตามเป้าของคิวนั้น (แสดงไว้ที่คิว) · "
        "เวลาทั้งหมดเป็นเวลาประเทศไทย (Asia/Bangkok) · เวลาแสดงเป็น นาที:วินาที · "
        "– หมายถึงไม่มีสายให้วัด</p>"
        f"<dl>{items}</dl>"
        "<p>นิยามฉบับเต็ม: README หัวข้อ “Reports: definitions”</p></footer>"
    )
