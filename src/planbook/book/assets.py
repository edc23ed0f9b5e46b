"""The book's static files: stylesheets, scripts, typst template and Lua filters shipped in
planbook/book/assets/, and the Noto CJK fonts of PyPI mplfonts, used by path so every machine
renders the same glyphs."""

from __future__ import annotations

import shutil
from pathlib import Path

ASSETS = Path(__file__).parent / "assets"
WEB_FONT = "NotoSansCJKsc-Regular.otf"  # the one font the HTML pages embed
# The faces the typst side names: body, headings/emphasis, code.
TYPST_FONTS = ("NotoSerifCJKsc-Regular.otf", WEB_FONT, "NotoSansMonoCJKsc-Regular.otf")


def font_dir() -> Path:
    # Found without importing mplfonts, which imports matplotlib (seconds, in a process that
    # only needs the files' folder).
    from importlib.util import find_spec

    spec = find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        import mplfonts  # not installed: let the import say so

        return Path(mplfonts.__file__).parent / "fonts"
    return Path(next(iter(spec.submodule_search_locations))) / "fonts"


def stage_fonts(folder: Path) -> Path:
    """Put TYPST_FONTS into `folder` (links to mplfonts' files, copies where links fail) and
    return it, so a config can name the fonts by a path relative to its project: Quarto joins
    a font path that starts with "/" onto the project folder (quarto-cli #12695, see
    /work/quarto-findings.md §2), and mplfonts' own folder names the Python version and the
    environment's place. A stale link (another environment) is replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in TYPST_FONTS:
        source, target = font_dir() / name, folder / name
        if target.is_symlink() and target.resolve() == source.resolve():
            continue
        if target.is_file() and not target.is_symlink() and (
                target.stat().st_size == source.stat().st_size):
            continue  # a copy made earlier
        if target.is_symlink() or target.exists():
            target.unlink()
        try:
            target.symlink_to(source)
        except OSError:  # e.g. Windows without the symlink privilege
            shutil.copyfile(source, target)
    return folder


def copy_static(out: Path, names: tuple[str, ...]) -> None:
    """Copy `names` from the assets and the web font into out/assets/."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "assets").mkdir(exist_ok=True)
    for name in names:
        shutil.copyfile(ASSETS / name, out / "assets" / name)
    (out / "assets" / "fonts").mkdir(exist_ok=True)
    shutil.copyfile(font_dir() / WEB_FONT, out / "assets" / "fonts" / WEB_FONT)
