"""House figures drawn the fast way (one draw per save, text metrics shared across renderers)
are byte for byte what matplotlib's own savefig(bbox_inches="tight") makes of them."""

from __future__ import annotations

import io

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from planbook.chapters import display, figures, textmetrics  # noqa: E402

TREND = [
    {"name": "地区生产总值", "unit": "亿元", "points": [(2022, 400.0), (2023, 421.5), (2024, 445.0)],
     "baseline": (2022, 400.0), "target": (2027, 560.0),
     "projection": (2025, 470.0, 455.0, 482.5), "status": "on_track"},
    {"name": "经开区上市企业", "unit": "家", "points": [(2023, 3), (2024, 3)],
     "baseline": None, "target": (2027, 5), "projection": None, "status": "limited"},
    {"name": "集体经济年收入80万元以上且经营性收入50万元以上的行政村占比", "unit": "%",
     "points": [(2024, 61.2)], "baseline": (2022, 48.0), "target": (2027, 80.0),
     "projection": None, "status": "no_data"},
    {"name": "粮食产量", "unit": "万吨", "points": [(2022, 9.1), (2023, 9.0), (2024, 8.7)],
     "baseline": (2022, 9.1), "target": (2027, 9.3), "projection": (2027, 8.2, None, None),
     "status": "deterioration"},
]
LIGHTS = pd.DataFrame({"green": [3, 1, 0], "yellow": [1, 0, 2], "red": [0, 2, 1],
                       "grey": [1, 0, 0]}, index=["市发改局", "市经信局", "市农业农村局"])
VILLAGES = pd.DataFrame({"operating_income": [12.0, 48.5, 55.0, 101.0, 230.0, 520.0, 75.0]})
GRID = pd.DataFrame({2023: [1, 0, None], 2024: [1, 1, 0], 2025: [None, 1, 1]},
                    index=["新增规上企业", "新招引大学生", "每年新建菜篮子基地"])
STATUS = pd.DataFrame({"达成": [2, 0], "正常推进": [5, 3], "需加快": [1, 2]},
                      index=pd.Index(["二", "三"], name="章"))
COVERAGE = pd.DataFrame({"垃圾分类": [100.0, 87.5], "污水处理": [92.3, 100.0]},
                        index=pd.Index(["新安江街道", "大同镇"], name="乡镇"))
TILES = [{"name": "地区生产总值", "value": "445亿元", "target": "560亿元", "status": "正常推进",
          "light": "green"},
         {"name": "城乡居民收入倍差", "value": "1.62", "target": "≤1.6", "status": "需加快",
          "light": "yellow"}]

DRAW = {
    "trend_panel": lambda: figures.trend_panel(TREND),
    "dossier_trend": lambda: figures.trend_panel(TREND[1:2], columns=1),
    "schedule_bullets": lambda: figures.schedule_bullets([
        {"name": "老旧小区改造", "completed": 0.62, "elapsed": 0.6, "status": "on_track",
         "label": "31/50个"},
        {"name": "盘活利用闲置农房", "completed": None, "elapsed": 0.6, "status": "no_data"}]),
    "status_heatmap": lambda: figures.status_heatmap(STATUS),
    "scorecard": lambda: figures.scorecard(LIGHTS),
    "village_income": lambda: figures.village_income(VILLAGES, 2024),
    "village_coverage": lambda: figures.village_coverage(COVERAGE),
    "annual_met": lambda: figures.annual_met(GRID),
    "dashboard": lambda: figures.dashboard(TILES),
    "empty": lambda: figures.trend_panel([]),
}
FAST_SVG = display.figure_svg


def matplotlib_svg(fig) -> str:
    """savefig's own tight crop, as display saved figures before the fast path."""
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": display.SVG_HASHSALT}):
        fig.savefig(buf, format="svg", metadata=display.SVG_METADATA)
    return buf.getvalue()


def svgs(monkeypatch, kind: str, save) -> list[str]:
    out = []
    monkeypatch.setattr(display, "_display",
                        lambda bundle, metadata=None: out.append(bundle["image/svg+xml"]))
    monkeypatch.setattr(display, "figure_svg", save)
    DRAW[kind]()
    return out


@pytest.mark.parametrize("kind", DRAW)
def test_fast_figure_svg_is_matplotlibs_own_bytes(kind, monkeypatch):
    figures.setup()
    textmetrics.uninstall()
    try:
        plain = svgs(monkeypatch, kind, matplotlib_svg)
    finally:
        textmetrics.install()
    fast = svgs(monkeypatch, kind, FAST_SVG)
    assert len(fast) == 1 and fast == plain


def test_a_house_figure_is_drawn_once_per_save(monkeypatch):
    from matplotlib.figure import Figure

    draws = []
    real = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(1) or
                        real(self, renderer))
    svgs(monkeypatch, "dossier_trend", FAST_SVG)
    assert len(draws) == 1


def test_a_raster_figure_keeps_savefigs_own_path(monkeypatch):
    import matplotlib.pyplot as plt

    figures.setup()

    def make():
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.imshow([[0, 1], [1, 0]])
        ax.set_title("栅格")
        fig.tight_layout()
        return fig

    fast, plain = make(), make()
    try:
        assert FAST_SVG(fast) == matplotlib_svg(plain)
    finally:
        plt.close(fast)
        plt.close(plain)
