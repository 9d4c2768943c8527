"""Printed paper for an old-part shipment: the packing list in the box and one tag per part.

WeasyPrint is imported inside the functions: it is heavy, and only these downloads need it.
Chinese names render with the Noto CJK fonts (fonts-noto-cjk) named in the CSS font stack.
"""

from __future__ import annotations

import segno
from flask import render_template, url_for

from portal.oldparts.models import OldPart, ReturnShipment


def qr_data_uri(text: str) -> str:
    """An SVG QR code of `text` as a data URI, for an <img> in the PDF."""
    return segno.make(text, error="m").svg_data_uri(scale=4, border=2)


def _render(template: str, **context) -> bytes:
    from weasyprint import HTML

    html = render_template(template, **context)
    return HTML(string=html, base_url=url_for("oldparts.index", _external=True)).write_pdf()


def packing_list(shipment: ReturnShipment, parts: list[OldPart]) -> bytes:
    return _render("oldparts/pdf_packing_list.html", shipment=shipment, parts=parts)


def tags(shipment: ReturnShipment, parts: list[OldPart]) -> bytes:
    return _render(
        "oldparts/pdf_tags.html",
        shipment=shipment,
        parts=parts,
        codes={p.id: qr_data_uri(p.tag) for p in parts},
    )
