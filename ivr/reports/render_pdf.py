"""A report's HTML page as a PDF, with WeasyPrint.

WeasyPrint lays text out with Pango and HarfBuzz, so Thai vowels and tone marks sit
on their consonants and lines break between Thai words; the fonts used are embedded
(subset) in the PDF. It needs a Thai font on the machine: Debian's
fonts-tlwg-laksaman-otf, which ``scripts/bootstrap.sh`` installs, with Pango.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

__all__ = ["PdfUnavailable", "write_pdf"]

INSTALL = (
    "install WeasyPrint and a Thai font: scripts/bootstrap.sh "
    "(Debian packages fonts-tlwg-laksaman-otf libpango-1.0-0 libpangoft2-1.0-0, "
    "Python package weasyprint)"
)


class PdfUnavailable(RuntimeError):
    """WeasyPrint or the libraries it needs are missing; the message says what to do."""


def _weasyprint() -> Any:
    """The weasyprint module, imported only when a PDF is asked for (it is slow to
    import and needs Pango)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import weasyprint
    except (ImportError, OSError) as e:
        raise PdfUnavailable(f"PDF: {e} — {INSTALL}") from None
    # its font and CSS notes ("Ignored ... property") are for its developers
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return weasyprint


def _no_fetch(url: str, *_args: Any, **_kw: Any) -> dict[str, Any]:
    raise ValueError(f"a report fetches nothing ({url})")


def write_pdf(html: str, path: Path) -> Path:
    """Write the page ``html`` (self-contained: nothing is fetched) as a PDF to ``path``."""
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch)
    document.write_pdf(str(path))
    return path
