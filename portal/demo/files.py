"""The demo's files: photos drawn with Pillow, documents typeset with WeasyPrint.

They are real files of the kinds the portal accepts (attachments and evidence are checked by
their content), small enough that hundreds of them load quickly.
"""

from __future__ import annotations

import io
import logging
import random
from html import escape

from PIL import Image, ImageDraw

PHOTO_SIZE = (160, 120)

PAGE_STYLE = """
@page { size: A4; margin: 20mm; }
body { font-family: sans-serif; font-size: 11pt; }
h1 { font-size: 15pt; margin: 0 0 6mm; }
p { margin: 0 0 2mm; }
"""


def photo(rng: random.Random) -> bytes:
    """A PNG "photo" of a part: a shaded background with a part-like shape and a label strip."""
    width, height = PHOTO_SIZE
    base = tuple(rng.randint(40, 200) for _ in range(3))
    accent = tuple(min(255, c + rng.randint(30, 55)) for c in base)
    # The shape's place follows from the colours: the demo's generator draws six numbers a photo.
    shape = random.Random(hash((base, accent)))
    image = Image.new("RGB", PHOTO_SIZE, base)
    draw = ImageDraw.Draw(image)
    for y in range(0, height, 6):  # light falling across the bench
        shade = tuple(max(0, c - y // 6) for c in base)
        draw.rectangle((0, y, width, y + 5), fill=shade)
    cx, cy = shape.randint(50, width - 50), shape.randint(40, height - 40)
    radius = shape.randint(20, 35)
    draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=accent, outline=0)
    draw.ellipse(
        (cx - radius // 3, cy - radius // 3, cx + radius // 3, cy + radius // 3), fill=base
    )
    draw.rectangle((8, height - 18, 8 + shape.randint(40, 90), height - 8), fill=(240, 240, 230))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def pdf_document(lines: list[str]) -> bytes:
    """A one-page A4 PDF: the first line as its title, the others below it."""
    from weasyprint import HTML  # imported when the first document is made: it loads slowly

    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

    title, *rest = lines
    body = "".join(f"<p>{escape(line)}</p>" for line in rest)
    html = (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{PAGE_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTML(string=html).write_pdf(uncompressed_pdf=True)  # twice as fast, still small
