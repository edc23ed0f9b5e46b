"""The book's static files: stylesheets, scripts, typst template and Lua filters shipped in
planbook/book/assets/, and the Noto CJK fonts of PyPI mplfonts, used by path so every machine
renders the same glyphs."""

from __future__ import annotations

import shutil
from pathlib import Path

ASSETS = Path(__file__).parent / "assets"
WEB_FONT = "NotoSansCJKsc-Regular.otf"  # the one font the HTML pages embed


def font_dir() -> Path:
    import mplfonts

    return Path(mplfonts.__file__).parent / "fonts"


def copy_static(out: Path, names: tuple[str, ...]) -> None:
    """Copy `names` from the assets and the web font into out/assets/."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "assets").mkdir(exist_ok=True)
    for name in names:
        shutil.copyfile(ASSETS / name, out / "assets" / name)
    (out / "assets" / "fonts").mkdir(exist_ok=True)
    shutil.copyfile(font_dir() / WEB_FONT, out / "assets" / "fonts" / WEB_FONT)
