"""The shipment's printed paper: the packing list and the tags render as PDF, with the tag
numbers, and Chinese part names in an embedded Noto CJK font."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib

import pytest

from portal.oldparts import operations as op
from portal.oldparts.pdf import qr_data_uri
from tests.factories import ClaimFactory, Fleet, old_parts


@pytest.fixture
def shipment(world, db_session):
    fleet = Fleet.build(world)  # P-100 is called 机油泵 Oil pump
    user = world.users["station"]
    tags = [p.tag for p in old_parts(ClaimFactory(fleet=fleet, with_old_parts=True))]
    shipment = op.create_return_shipment(user, tags)
    op.ship(shipment, user, "中通快递", "ZT123")
    return shipment


def pdf_text(data: bytes, tmp_path) -> str:
    """The PDF's text with pdftotext when poppler-utils is installed; else its decompressed
    streams (link targets, font names and the document title are readable there)."""
    if shutil.which("pdftotext"):
        path = tmp_path / "doc.pdf"
        path.write_bytes(data)
        return subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return _inflate(data)


def _inflate(data: bytes) -> str:
    """The PDF bytes with every compressed stream inflated (font names, links, the title)."""
    chunks = [data.decode("latin-1")]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            chunks.append(zlib.decompress(stream).decode("latin-1"))
        except zlib.error:
            continue
    return "\n".join(chunks)


@pytest.mark.parametrize("kind", ["packing-list", "tags"])
def test_the_shipment_pdfs_render_with_every_tag(login_as, shipment, kind, tmp_path):
    response = login_as("station").get(f"/old-parts/shipments/{shipment.number}/{kind}.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    data = response.get_data()
    assert data.startswith(b"%PDF")
    found = pdf_text(data, tmp_path)
    # Each tag is printed whole, on one line (a label a scanner or a person reads at a glance).
    lines = found.splitlines()
    for part in op.parts_in(shipment):
        assert any(part.tag in line for line in lines), part.tag


@pytest.mark.parametrize("kind", ["packing-list", "tags"])
def test_chinese_part_names_render_in_an_embedded_cjk_font(login_as, shipment, kind, tmp_path):
    response = login_as("auditor").get(f"/old-parts/shipments/{shipment.number}/{kind}.pdf")
    data = response.get_data()
    assert data.startswith(b"%PDF")
    if shutil.which("pdftotext"):
        assert "机油泵" in pdf_text(data, tmp_path)
    assert "NotoSansCJK" in _inflate(data)


def test_a_tag_qr_code_is_an_svg_data_uri():
    uri = qr_data_uri("RP-ST-A-2611-0001-0101")
    assert uri.startswith("data:image/svg+xml")
