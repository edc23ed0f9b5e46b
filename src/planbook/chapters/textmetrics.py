"""Text metrics measured once per kernel, not once per renderer.

matplotlib caches a string's measured size (width, height, descent) per renderer instance, and
every figure, every savefig and every tight_layout makes new renderers: a book's ~100 figures
measured the same tick labels, legend entries and "lp" thousands of times, each a FreeType
layout of the CJK font. The size depends only on the kind of renderer (Agg at its dpi, or the
SVG renderer's text-to-path measure), the string, the font properties and the font settings,
so `install()` keys matplotlib's cache on those instead of on the renderer: the numbers, and
so the figures' bytes, are the ones matplotlib computes (tests/test_figures.py compares).

Only the two renderers the book uses are shared (Agg for tight_layout, SVG for the output);
any other renderer, and mathtext, go to matplotlib's own cache unchanged.
"""

from __future__ import annotations

import weakref

import matplotlib
import matplotlib.text
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import RendererSVG

_MATPLOTLIB = matplotlib.text._get_text_metrics_with_cache
_SIZES: dict[tuple, tuple[float, float, float]] = {}
_KINDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# rcParams a measurement reads besides the font properties: family lists and defaults resolve
# the font file (findfont), hinting and kerning change the layout.
_TEXT_RC = ("text.hinting", "text.hinting_factor", "text.kerning_factor")


def _settings() -> tuple:
    rc = matplotlib.rcParams
    keys = sorted(k for k in rc if k.startswith("font.")) + list(_TEXT_RC)
    return tuple((k, tuple(v) if isinstance(v, list) else v) for k in keys for v in [rc[k]])


def _kind(renderer) -> tuple | None:
    """What a measurement depends on besides the string and font: the renderer's type (and
    Agg's dpi), and the font settings when the renderer was first asked (fixed while it draws);
    None for a renderer not shared."""
    kind = _KINDS.get(renderer, False)
    if kind is False:
        if type(renderer) is RendererAgg:
            kind = ("agg", _settings())
        elif type(renderer) is MixedModeRenderer and type(renderer._renderer) is RendererSVG:
            kind = ("svg", _settings())
        else:
            kind = None
        _KINDS[renderer] = kind
    return kind


def _text_metrics(renderer, text, fontprop, ismath, dpi):
    kind = _kind(renderer) if ismath is False else None
    if kind is None:
        return _MATPLOTLIB(renderer, text, fontprop, ismath, dpi)
    key = (kind, renderer.dpi if kind[0] == "agg" else None, text, fontprop, dpi)
    size = _SIZES.get(key)
    if size is None:
        # Stored under a copy of the (mutable) font properties, as matplotlib's cache does.
        fontprop = fontprop.copy()
        size = renderer.get_text_width_height_descent(text, fontprop, ismath)
        _SIZES[(*key[:3], fontprop, dpi)] = size
    return size


def install() -> None:
    """Share text metrics across renderers in this process (idempotent)."""
    matplotlib.text._get_text_metrics_with_cache = _text_metrics


def uninstall() -> None:
    """Back to matplotlib's per-renderer cache (for tests comparing both)."""
    matplotlib.text._get_text_metrics_with_cache = _MATPLOTLIB
