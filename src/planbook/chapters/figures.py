"""House style for every figure: Noto CJK by file path, one colour per status, A4 sizes.

Each function draws one kind of figure from plain data and shows it through
`display.show_figure`, which saves deterministic SVG (fixed hash salt, no dates).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from planbook.chapters import provenance, textmetrics  # noqa: E402
from planbook.chapters.display import LIGHT_COLOURS, LIGHT_ZH  # noqa: E402
from planbook.plan.registry import COUNT_UNITS  # noqa: E402

A4_WIDTH = 6.3  # inches: A4 text width with the book's margins
# Every status mark at least 3:1 against white and the bullet's grey track (WCAG 1.4.11;
# tests/test_validators.py): 已达标 a darker green than 符合进度, the yellow a darker gold.
STATUS_COLOURS = {
    "achieved": "#1b5e20", "on_track": "#388e3c", "needs_acceleration": "#b07d00",
    "limited": "#d9480f", "deterioration": "#b00020", "no_data": "#767676",
    "done": "#1b5e20", "reached": "#1b5e20", "in_progress": "#388e3c", "not_started": "#b07d00",
    "overdue": "#b00020",
}
# The smallest text a figure prints (points at A4 width; about 10 px on a 1280 px page): the
# dashboard's and heatmap's labels stay readable (tests/test_polish.py checks every text).
MIN_FONT = 7.5
PATH_COLOUR, OBS_COLOUR, PROJ_COLOUR = "#5c6bc0", "#263238", "#8e24aa"


def font_dir() -> Path:
    import mplfonts

    return Path(mplfonts.__file__).parent / "fonts"


@cache
def setup() -> str:
    """Register the Noto Sans CJK SC file by path and set the house rcParams; returns the family."""
    textmetrics.install()
    path = font_dir() / "NotoSansCJKsc-Regular.otf"
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    plt.rcParams.update({
        "font.family": family, "axes.unicode_minus": False, "font.size": 8.5,
        "axes.titlesize": 9, "axes.spines.top": False, "axes.spines.right": False,
        "figure.dpi": 100, "savefig.bbox": "tight", "svg.hashsalt": "planbook",
        "svg.fonttype": "path", "legend.frameon": False, "legend.fontsize": 7.5,
    })
    return family


def _empty(message: str = "本期暂无可绘制的数据") -> None:
    """A small placeholder, so a chapter without data for a figure says so instead of failing."""
    fig, ax = plt.subplots(figsize=(A4_WIDTH, 0.8))
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=9, color="#616161")
    _show(fig, data=pd.DataFrame({"说明": [message]}))


def _show(fig, inputs=(), data: pd.DataFrame | None = None) -> None:
    from planbook.chapters import display

    provenance.record("figure", inputs=inputs)
    display.show_figure(fig, data)


def _num(value) -> str:
    """A drawn value for the data table: up to 2 decimals, no trailing zeros."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "—"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


BREAK_AFTER = "、，,；）)和与及的"  # a line may end after these (breaks=True)


def wrap_zh(text: str, width: int, lines: int = 2, *, breaks: bool = False) -> str:
    """Wrap Chinese text at `width` characters, never inside a number or a Latin word
    (50万元 stays whole: no 5|0万元); the last line ends with … when text is left over.
    `breaks`: end a line after a mark or particle (BREAK_AFTER) in its last third, or before
    a parenthesis, rather than inside a word."""
    out, rest = [], text
    while rest and len(out) < lines:
        if len(rest) <= width:
            out.append(rest)
            rest = ""
            break
        cut = width
        while cut > 1 and rest[cut - 1].isascii() and rest[cut].isascii() \
                and (rest[cut - 1].isalnum() or rest[cut - 1] in ".,%") and rest[cut].isalnum():
            cut -= 1
        if breaks:
            soft = [k for k in range(cut, max(1, cut * 2 // 3) - 1, -1)
                    if rest[k - 1] in BREAK_AFTER or rest[k] in "（("]
            cut = soft[0] if soft else cut
            while cut > width // 2 and (rest[cut - 1].isdigit() or rest[cut] in "万亿元个%"):
                cut -= 1  # keep a number with its unit: 50万元, not 50万|元
        out.append(rest[:cut])
        rest = rest[cut:]
    if rest:
        out[-1] = out[-1][:-1] + "…"
    return "\n".join(out)


def _years_axis(ax, years, *, ends_only: bool = False) -> None:
    """A tick per year; `ends_only`: a narrow panel labels only the first and last year (four
    labels of 2022–2025 side by side run into each other)."""
    years = sorted({int(y) for y in years})
    ax.set_xticks(years)
    ax.set_xticklabels([str(y) if not ends_only or y in (years[0], years[-1]) else ""
                        for y in years])


TITLE_CHARS = {4: 11, 3: 15}  # a small panel's title wraps at this many characters


def trend_panel(series: list[dict], *, columns: int = 4) -> None:
    """Small multiples: observed values against the path from baseline to target, with projection.

    Each item: name, unit, points [(x, value)], baseline (x, v) or None, target (x, v),
    line (a bottom line's value, drawn level) or None, projection (x, v, low, high) or None,
    status, inputs.
    """
    setup()
    if not series:
        return _empty()
    fig, inputs = _trend_figure(series, columns)
    data = pd.DataFrame([{
        "指标": it["name"], "单位": it["unit"] or "—",
        "基期": f"{it['baseline'][0]}年 {_num(it['baseline'][1])}" if it.get("baseline") else "—",
        "实际值": "；".join(f"{x}年 {_num(v)}" for x, v in it["points"]),
        "目标": (f"{it['target'][0]}年 {_num(it['target'][1])}" if it.get("target") else
                 f"每年底线 {_num(it['line'])}" if it.get("line") is not None else "—"),
        "预测": (f"{it['projection'][0]}年 {_num(it['projection'][1])}"
                 if it.get("projection") else "—")} for it in series])
    _show(fig, inputs, data)


def _trend_figure(series: list[dict], columns: int):
    """trend_panel's figure, laid out, and the inputs of its series."""
    n = len(series)
    rows = int(np.ceil(n / columns))
    # Four small panels a row (issue 26: the report's PDF stays short); a row is as tall as
    # a panel needs for its axis and a title of up to three lines.
    fig, axes = plt.subplots(rows, columns, figsize=(A4_WIDTH, 1.6 * rows + 0.4),
                             squeeze=False)
    inputs = []
    for ax, item in zip(axes.flat, series, strict=False):
        inputs += item.get("inputs", [])
        xs = [p[0] for p in item["points"]]
        ys = [p[1] for p in item["points"]]
        ticks = set(xs)
        if item.get("baseline") and item.get("target"):
            (bx, bv), (tx, tv) = item["baseline"], item["target"]
            ax.plot([bx, tx], [bv, tv], ls="--", lw=1, color=PATH_COLOUR, label="目标路径")
            ticks |= {bx, tx}
        if item.get("line") is not None:  # a bottom line: held every year, not grown toward
            ax.axhline(item["line"], ls="--", lw=1, color=PATH_COLOUR, label="底线")
        if item.get("target"):
            tx, tv = item["target"]
            ax.scatter([tx], [tv], marker="*", s=60, color=PATH_COLOUR, zorder=3, label="目标",
                       clip_on=False)
        if item.get("projection") and xs:
            px, pv, lo, hi = item["projection"]
            ax.plot([xs[-1], px], [ys[-1], pv], ls=":", lw=1.2, color=PROJ_COLOUR, label="预测")
            if lo is not None and hi is not None:
                ax.fill_between([xs[-1], px], [ys[-1], lo], [ys[-1], hi], color=PROJ_COLOUR,
                                alpha=0.12, lw=0)
            ticks.add(px)
        colour = STATUS_COLOURS.get(item.get("status"), OBS_COLOUR)
        ax.plot(xs, ys, marker="o", ms=3.5, lw=1.6, color=colour, label="实际值", clip_on=False)
        _years_axis(ax, ticks or [2022, 2027], ends_only=columns >= 4)
        if item["unit"] == "%":  # a share's axis stays within what a share can be
            low, high = ax.get_ylim()
            ax.set_ylim(max(0.0, low), min(100.0, high))
        if item["unit"] in COUNT_UNITS:  # a count axis shows whole numbers only
            low, high = ax.get_ylim()
            if high - low < 2:  # a flat count: leave room for whole-number ticks around it
                ax.set_ylim(max(0.0, np.floor(low) - 1), np.ceil(high) + 1)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.tick_params(axis="x", labelsize=6.5, rotation=0)
        # Titles wrap to the column's width so neighbouring titles never overlap.
        title = f"{item['name']}（{item['unit']}）" if item["unit"] else item["name"]
        ax.set_title(wrap_zh(title, TITLE_CHARS.get(columns, 40), 3), fontsize=7.5, loc="left")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig, inputs


def schedule_bullets(items: list[dict]) -> None:
    """Cumulative targets: completed share of the target against the elapsed share (时序进度).

    Each item: name, completed (0..), elapsed (0..1), status, label (text at bar end), inputs.
    """
    setup()
    if not items:
        return _empty()
    n = len(items)
    fig, ax = plt.subplots(figsize=(A4_WIDTH, 0.34 * n + 0.9))
    inputs = []
    for i, item in enumerate(reversed(items)):
        inputs += item.get("inputs", [])
        ax.barh(i, 1.0, height=0.6, color="#eceff1")
        done = min(item["completed"] or 0.0, 1.25)
        ax.barh(i, done, height=0.32, color=STATUS_COLOURS.get(item["status"], OBS_COLOUR))
        ax.plot([item["elapsed"]] * 2, [i - 0.33, i + 0.33], color="#212121", lw=1.6)
        ax.text(1.27, i, item.get("label", ""), va="center", fontsize=7)
    ax.set_yticks(range(n))
    ax.set_yticklabels([it["name"] for it in reversed(items)], fontsize=7.5)
    ax.set_xlim(0, 1.9)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_xticklabels(["0", "25%", "50%", "75%", "100%"])
    ax.set_xlabel("完成目标的比例（竖线为按时序进度应达）")
    fig.tight_layout()
    data = pd.DataFrame([{"指标": it["name"], "完成/目标": it.get("label", ""),
                          "完成比例": f"{(it['completed'] or 0.0) * 100:.1f}%",
                          "时序进度": f"{it['elapsed'] * 100:.1f}%"} for it in items])
    _show(fig, inputs, data)


def _heatmap(table: pd.DataFrame, *, row_height: float, inputs, **style) -> None:
    """An annotated seaborn heatmap in house style (no colour bar, labels level)."""
    import seaborn as sns

    setup()
    fig, ax = plt.subplots(figsize=(A4_WIDTH, row_height * len(table) + 1.25))
    sns.heatmap(table, annot=True, cbar=False, linewidths=0.5, linecolor="white", ax=ax,
                **style)
    # seaborn sets a number white on any cell darker than a fixed luminance, which leaves
    # mid-tone cells near 3:1; each number takes whichever of black and white contrasts more.
    mesh = ax.collections[0]
    for text in ax.texts:
        x, y = text.get_position()
        text.set_color(text_colour(mesh.cmap(mesh.norm(table.iat[int(y), int(x)]))[:3]))
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.tick_params(axis="both", labelsize=7.5)
    plt.setp(ax.get_xticklabels(), rotation=0)
    fig.tight_layout()
    _show(fig, inputs, table.rename_axis(table.index.name or "分组").reset_index())


def _mix(colour: str, share: float) -> tuple[float, float, float]:
    """`colour` laid over white at `share` (0 → white, 1 → the colour)."""
    rgb = matplotlib.colors.to_rgb(colour)
    return tuple(1 - share * (1 - c) for c in rgb)


def _luminance(rgb) -> float:
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def text_colour(background) -> str:
    """Black or white, whichever contrasts more with `background` (WCAG ratio)."""
    lum = _luminance(matplotlib.colors.to_rgb(background))
    # Pure black: against any colour one of the two reaches 4.58:1 (WCAG text), #111 may not.
    return "#000000" if (lum + 0.05) / 0.05 >= 1.05 / (lum + 0.05) else "#ffffff"


def status_heatmap(counts: pd.DataFrame, *, inputs=()) -> None:
    """Rows: plan sections; columns: statuses (Chinese labels); cells: indicator counts.

    Each status column is shaded in its own status colour (green for 已达标, red for 出现倒退,
    …: STATUS_COLOURS), darker for more indicators, so good and bad counts never share one
    scale; a zero cell stays white, and every number is set in black or white, whichever
    contrasts more with its cell."""
    from planbook.assess.rules import STATUS

    setup()
    by_label = {label: STATUS_COLOURS.get(code, "#9e9e9e") for code, (label, _) in
                STATUS.items()}
    values = counts.to_numpy(dtype=float)
    top = max(float(values.max()) if values.size else 0.0, 1.0)
    fig, ax = plt.subplots(figsize=(A4_WIDTH, 0.32 * len(counts) + 1.25))
    cells = np.ones((*values.shape, 3))
    for j, column in enumerate(counts.columns):
        for i in range(values.shape[0]):
            v = values[i, j]
            if v > 0:
                cells[i, j] = _mix(by_label.get(str(column), "#9e9e9e"), 0.25 + 0.75 * v / top)
            ax.text(j, i, f"{int(v)}", ha="center", va="center", fontsize=MIN_FONT,
                    color=text_colour(cells[i, j]) if v > 0 else "#616161")
    ax.imshow(cells, aspect="auto", interpolation="nearest")
    ax.set_xticks(range(len(counts.columns)), [str(c) for c in counts.columns])
    ax.set_yticks(range(len(counts.index)), [str(r) for r in counts.index])
    ax.set_xticks(np.arange(-0.5, len(counts.columns)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(counts.index)), minor=True)
    ax.grid(which="minor", color="white", linewidth=1)
    ax.tick_params(which="both", length=0, labelsize=MIN_FONT)
    ax.xaxis.tick_top()
    for side in ax.spines.values():
        side.set_visible(False)
    fig.tight_layout()
    _show(fig, inputs, counts.rename_axis(counts.index.name or "分组").reset_index())


def scorecard(lights: pd.DataFrame, *, inputs=()) -> None:
    """Department scorecard: one stacked bar per lead department, by warning light."""
    setup()
    fig, ax = plt.subplots(figsize=(A4_WIDTH, 0.3 * len(lights) + 1.0))
    left = np.zeros(len(lights))
    y = np.arange(len(lights))[::-1]
    for light in ("green", "yellow", "red", "grey"):
        vals = lights[light].to_numpy(dtype=float) if light in lights else np.zeros(len(lights))
        # White seams: each segment meets white, not a neighbour it may barely differ from.
        ax.barh(y, vals, left=left, color=LIGHT_COLOURS[light], label=LIGHT_ZH[light], height=0.65,
                edgecolor="white", linewidth=0.8)
        left += vals
    ax.set_yticks(y)
    ax.set_yticklabels(lights.index, fontsize=7.5)
    ax.set_xlabel("牵头指标数（项）")
    ax.legend(loc="lower right", ncol=4)
    fig.tight_layout()
    data = pd.DataFrame({"牵头单位": lights.index})
    for light in ("green", "yellow", "red", "grey"):
        data[LIGHT_ZH[light]] = (lights[light].astype(int).to_numpy() if light in lights
                                 else 0)
    _show(fig, inputs, data)


def village_income(records: pd.DataFrame, year: int, *, inputs=()) -> None:
    """Distribution of village collective operating income, with the 50万 and 100万 lines."""
    setup()
    vals = records["operating_income"].clip(upper=400)
    fig, ax = plt.subplots(figsize=(A4_WIDTH, 2.6))
    ax.hist(vals, bins=np.arange(0, 410, 10), color="#607d8b", edgecolor="white")  # 4.4:1
    for x, text in ((50, "50万元"), (100, "100万元")):
        ax.axvline(x, color="#c62828", ls="--", lw=1)
        ax.text(x + 3, ax.get_ylim()[1] * 0.92, text, color="#c62828", fontsize=7.5)
    ax.set_xlabel(f"{year}年村级集体经济经营性收入（万元，400以上并入末组）")
    ax.set_ylabel("行政村数（个）")
    fig.tight_layout()
    counts, edges = np.histogram(vals, bins=np.arange(0, 410, 10))
    data = pd.DataFrame([{"经营性收入（万元）": f"{int(lo)}–{int(lo) + 10}" if lo < 390 else "390以上",
                          "行政村数（个）": int(c)}
                         for lo, c in zip(edges[:-1], counts, strict=True) if c])
    _show(fig, inputs, data)


def village_coverage(table: pd.DataFrame, *, inputs=()) -> None:
    """Coverage by town: rows towns, columns measures, cells percent of villages."""
    _heatmap(table, row_height=0.28, inputs=inputs, fmt=".0f", cmap="RdYlGn", vmin=0, vmax=100,
             annot_kws={"fontsize": 7})


def annual_met(grid: pd.DataFrame, *, inputs=()) -> None:
    """Annual targets: met (green), not met (red) or not reported (grey), year by year."""
    setup()
    if grid.empty:
        return _empty()
    fig, ax = plt.subplots(figsize=(A4_WIDTH, 0.32 * len(grid) + 0.9))
    colours = {1: LIGHT_COLOURS["green"], 0: LIGHT_COLOURS["red"], -1: LIGHT_COLOURS["grey"]}
    marks = {1: "达标", 0: "未达标", -1: "无数据"}
    for i, (_, row) in enumerate(grid.iloc[::-1].iterrows()):
        for j, v in enumerate(row):
            v = -1 if pd.isna(v) else int(v)
            ax.add_patch(plt.Rectangle((j, i), 0.95, 0.85, color=colours[v]))
            ax.text(j + 0.475, i + 0.42, marks[v], ha="center", va="center", fontsize=6.5,
                    color="white")
    ax.set_xlim(0, grid.shape[1])
    ax.set_ylim(0, len(grid))
    ax.set_xticks(np.arange(grid.shape[1]) + 0.475)
    ax.set_xticklabels([f"{c}年" for c in grid.columns])
    ax.set_yticks(np.arange(len(grid)) + 0.42)
    ax.set_yticklabels(list(grid.index[::-1]), fontsize=7.5)
    ax.tick_params(length=0)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    data = grid.apply(lambda col: col.map(lambda v: marks[-1 if pd.isna(v) else int(v)]))
    data.columns = [f"{c}年" for c in grid.columns]
    _show(fig, inputs, data.rename_axis("指标").reset_index())


def dashboard(tiles: list[dict]) -> None:
    """Headline tiles: name, latest value text, target text, status label, light."""
    setup()
    columns = 3  # three tiles a row: names at MIN_FONT and up, wrapped at word breaks
    rows = int(np.ceil(len(tiles) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(A4_WIDTH, 1.75 * rows), squeeze=False)
    inputs = []
    for ax, t in zip(axes.flat, tiles, strict=False):
        inputs += t.get("inputs", [])
        ax.set_xticks([])
        ax.set_yticks([])
        colour = LIGHT_COLOURS[t["light"]]
        for side in ax.spines.values():
            side.set_visible(True)
            side.set_color(colour)
            side.set_linewidth(2)
        ax.add_patch(plt.Rectangle((0, 0.8), 1, 0.2, color=colour, alpha=0.18,
                                   transform=ax.transAxes, lw=0))
        ax.text(0.06, 0.9, f"{LIGHT_ZH[t['light']]} {t.get('status', '')}".strip(),
                fontsize=MIN_FONT, transform=ax.transAxes, va="center", color="#212121")
        name = wrap_zh(t["name"], 14, 2, breaks=True)
        ax.text(0.06, 0.72, name, fontsize=8, transform=ax.transAxes, va="top",
                linespacing=1.25)
        ax.text(0.06, 0.3, t["value"], fontsize=11, transform=ax.transAxes, va="center")
        ax.text(0.06, 0.1, f"目标 {t['target']}", fontsize=MIN_FONT, transform=ax.transAxes,
                color="#424242", va="center")
    for ax in list(axes.flat)[len(tiles):]:
        ax.axis("off")
    fig.tight_layout()
    data = pd.DataFrame([{"指标": t["name"], "最新值": t["value"], "目标": t["target"],
                          "状态": t.get("status", ""), "灯号": t["light"]} for t in tiles])
    _show(fig, inputs, data)
