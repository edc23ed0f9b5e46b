"""`planbook build`: validate the data, execute the notebooks, render the book, record it all."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from planbook import observations, paths
from planbook.errors import UsageError
from planbook.params import load_params, resolve_period
from planbook.periods import months_between, parse_period
from planbook.registry import load_registry


def expand(spec: str, root: Path | None = None) -> list[str]:
    """`default`, one period, or a range of months `2026-01..2026-10`."""
    if ".." in spec:
        first, _, last = spec.partition("..")
        return [p.code for p in months_between(parse_period(first), parse_period(last))]
    if not spec:
        raise UsageError("no period given", hint="use --period 2025 (or default)")
    return [resolve_period(spec, root)]


def _render_key(period: str, engine: str, root: Path) -> str:
    """Hash of everything a render reads: executed notebooks, book pages, config, library."""
    from planbook.pipeline import library_files

    h = hashlib.sha256(engine.encode())
    files = sorted((paths.reports_dir(root) / period / "notebooks").glob("*.ipynb"))
    files += sorted(paths.book_dir(root).glob("*")) + [root / "_quarto.yml"]
    files += list(library_files(root).values())
    files += sorted((Path(__file__).parent / "assets").glob("*"))
    for f in files:
        if f.is_file():
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def _published(period: str, root: Path) -> bool:
    out = paths.reports_dir(root) / period
    return (out / "html" / "index.html").is_file() and (out / "report.pdf").is_file()


def build(spec: str, *, engine: str = "auto", force: bool = False,
          root: Path | None = None) -> Iterator[str]:
    """Build each period of `spec`; yields progress lines, raises PlanbookError on failure."""
    from planbook import pipeline, provenance
    from planbook.render import pick_engine, render

    root = root or paths.project_root()
    periods = expand(spec, root)
    for n, period in enumerate(periods, start=1):
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        tag = f"[{n}/{len(periods)}] {period}" if len(periods) > 1 else period
        params = load_params(period, root)
        data = params.data_path(root)
        registry = load_registry(data)
        observations.check_store(data, registry)
        yield f"{tag} 1/3 数据校验通过：{len(registry.indicators)} 项指标，" \
              f"{len(observations.store_files(data))} 个数据文件"
        result = pipeline.run(period, root=root, force=force)
        yield (f"{tag} 2/3 执行笔记本：执行 {len(result.executed)} 个，"
               f"沿用缓存 {len(result.cached)} 个")
        used = pick_engine(engine)
        key = _render_key(period, used, root)
        stamp = paths.build_dir(root) / "cache" / period / "render.json"
        if not force and _published(period, root) and stamp.is_file() and \
                json.loads(stamp.read_text(encoding="utf-8")).get("key") == key:
            yield f"{tag} 3/3 渲染：输入未变，沿用已发布的报告"
        else:
            render(period, engine=used, root=root)
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.write_text(json.dumps({"key": key}), encoding="utf-8")
            yield f"{tag} 3/3 渲染完成（{used}）"
        manifest = provenance.write_manifest(period, root=root, engine=used, started=started,
                                             finished=datetime.now(UTC))
        out = paths.reports_dir(root) / period
        yield f"{tag} 完成，用时 {time.perf_counter() - t0:.1f} 秒"
        yield f"  HTML: {out / 'html' / 'index.html'}"
        yield f"  PDF:  {out / 'report.pdf'}"
        yield f"  清单: {manifest}"
