"""Draw the default favicon and share image in headless Chromium (run once; both are committed).

    .venv/bin/python tools/make_default_images.py

The favicon is an envelope on the default brand colour; the share image (1200x630, what a
shared link shows when a campaign sets none of its own) is the envelope and "Write to your MP".
"""

from __future__ import annotations

import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "mp_mailer" / "static"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ENVELOPE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="{size}" height="{size}">'
    '<rect width="64" height="64" rx="12" fill="#b3122e"/>'
    '<rect x="10" y="18" width="44" height="30" rx="3" fill="#fff"/>'
    '<path d="M11 20 L32 36 L53 20" fill="none" stroke="#b3122e" stroke-width="4"/></svg>'
)
SHARE_PAGE = """<body style="margin:0;width:1200px;height:630px;display:flex;align-items:center;
justify-content:center;gap:48px;background:linear-gradient(135deg,#8a0d23,#b3122e 60%,#d2352f);
font-family:system-ui,sans-serif;color:#fff">{envelope}<div style="font-size:84px;font-weight:900;
line-height:1.05">Write to<br>your MP</div></body>"""


def ico_from_png(png: bytes, size: int) -> bytes:
    """An .ico holding one PNG image, which every current browser reads."""
    header = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", size, size, 0, 0, 1, 32, len(png), 6 + 16)
    return header + entry + png


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 32, "height": 32})
        page.set_content('<body style="margin:0">' + ENVELOPE.format(size=32) + "</body>")
        png = page.screenshot(omit_background=True)
        (STATIC / "favicon.ico").write_bytes(ico_from_png(png, 32))
        page.set_viewport_size({"width": 1200, "height": 630})
        page.set_content(SHARE_PAGE.format(envelope=ENVELOPE.format(size=300)))
        page.screenshot(path=str(STATIC / "share-default.jpg"), type="jpeg", quality=85)
        browser.close()
    print(f"Wrote {STATIC / 'favicon.ico'} and {STATIC / 'share-default.jpg'}")


if __name__ == "__main__":
    main()
