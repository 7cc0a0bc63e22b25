"""Render ``pickaxe.svg`` into the icon files the installers use (run after editing the SVG):

    QT_QPA_PLATFORM=offscreen python installer/icons/render_icons.py

Writes ``pickaxe-<size>.png`` (Linux hicolor theme sizes), ``pickaxe.ico`` (Windows: PyInstaller's EXE
icon and the Inno Setup installer) and ``pickaxe.icns`` (macOS: the .app bundle). Both containers
hold PNG-compressed images, which Windows Vista+ and macOS 10.7+ read. They are written here by hand
(a header and a table of offsets) because Qt's ICO/ICNS writers store a single size and Pillow would
be a build dependency for twenty lines of container code.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "pickaxe.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size.
ICNS_TYPES = ((16, b"icp4"), (32, b"icp5"), (64, b"icp6"), (128, b"ic07"), (256, b"ic08"), (512, b"ic09"))


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    """The SVG rendered at ``size`` x ``size`` pixels, as PNG bytes."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]  # the stubs want bytes, the runtime str
        raise RuntimeError(f"could not encode the {size}px icon as PNG")
    return bytes(data.data())


def ico(pngs: dict[int, bytes]) -> bytes:
    """An ICO container of PNG images (width/height byte 0 means 256)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for size in sizes:
        blob = pngs[size]
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
        blobs += blob
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """An ICNS container of PNG images (big-endian lengths include the 8-byte element header)."""
    body = b"".join(kind + struct.pack(">I", len(pngs[size]) + 8) + pngs[size] for size, kind in ICNS_TYPES)
    return b"icns" + struct.pack(">I", len(body) + 8) + body


def main() -> int:
    """Write every icon file next to this script."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"error: {SOURCE} is not a valid SVG", file=sys.stderr)
        return 1
    pngs = {size: render_png(renderer, size) for size in PNG_SIZES}
    for size in PNG_SIZES:
        (HERE / f"pickaxe-{size}.png").write_bytes(pngs[size])
    (HERE / "pickaxe.ico").write_bytes(ico({s: pngs[s] for s in ICO_SIZES}))
    (HERE / "pickaxe.icns").write_bytes(icns(pngs))
    del app
    print(f"wrote {len(PNG_SIZES)} PNGs, pickaxe.ico and pickaxe.icns in {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
