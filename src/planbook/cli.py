"""The command line: a thin layer over the library. Errors print once, without a traceback."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from planbook import paths
from planbook.errors import PlanbookError, UsageError


def _data(args) -> Path:
    """The data package a command reads: --data (which must exist), else ./data."""
    given = getattr(args, "data", None)
    if given is None:
        return paths.data_dir()
    if not given or not Path(given).is_dir():
        raise UsageError(f"--data {given!r}: no such folder",
                         hint="point --data at a data package (a folder with plan/ and "
                              "observations/), or leave it out to use ./data")
    return Path(given).resolve()


def _data_option(args) -> Path | None:
    """--data checked (None when not given): the period commands pass it to resolve()."""
    return None if getattr(args, "data", None) is None else _data(args)


def _period(args, *, params: bool) -> str:
    """--period checked before anything runs: a malformed period, or (for the commands that
    report on it) one without params/<P>.yml, is a usage error (exit 2) naming what was given."""
    from planbook.errors import PeriodError
    from planbook.plan.params import params_file
    from planbook.plan.periods import months_between, parse_period

    text = args.period
    if text == "default" and params:
        return text
    try:
        if ".." in text and args.command == "build":
            first, _, last = text.partition("..")
            periods = [p.code for p in months_between(parse_period(first), parse_period(last))]
        else:
            periods = [parse_period(text).code]
    except PeriodError as err:
        if ".." in text:  # a path like ../../x, or a range with a bad end
            raise UsageError(f"--period {text!r}: not a period, nor a range of two months",
                             hint="write 2025, 2026-10 or (build) 2026-01..2026-10") from None
        raise UsageError(f"--period {text!r}: {err.message}", hint=err.hint) from None
    if params:
        missing = [p for p in periods if not params_file(p).is_file()]
        if missing:
            have = sorted(f.stem for f in paths.params_dir().glob("[0-9]*.yml"))
            raise UsageError(f"--period {text!r}: no params/{missing[0]}.yml",
                             hint="periods with params: " + ", ".join(have) if have else
                             "add params/<P>.yml (README, 'Adding a year')")
    return text


def cmd_plan(args) -> int:
    from planbook.plan.registry import load_registry

    reg = load_registry(_data(args))
    if args.leads:
        from planbook.plan import leads

        if args.json:
            rows = leads.lead_rows(reg)
            print(json.dumps({"summary": leads.lead_summary(reg, rows), "entries": rows},
                             ensure_ascii=False, indent=2))
        else:
            print("\n".join(leads.lead_lines(reg, by=args.by)))
        return 0
    summary = reg.summary()
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return 0
    print(f"方案指标 {summary['indicators']} 项（量化指标 {summary['quantified']} 项、"
          f"目标值 {summary['targets']} 个、节点任务 {summary['milestones']} 项），"
          f"任务条目 {summary['tasks']} 条，责任单位 {summary['departments']} 个，"
          f"方案点名项目 {summary['projects']} 个")
    print("\n按章节:")
    for ch, info in summary["by_chapter"].items():
        secs = "，".join(f"{s} {n}" for s, n in info["sections"].items())
        print(f"  {ch} {info['title']}: {info['indicators']} 项" + (f"（{secs}）" if secs else ""))
    print("\n按类型:")
    for kind, n in summary["by_kind"].items():
        print(f"  {kind}: {n}")
    print("\n按牵头单位:")
    for dept, n in summary["by_lead_department"].items():
        print(f"  {dept}: {n}")
    if summary["projects"]:
        print("\n点名项目（按目标阶段）:")
        print("  " + "，".join(f"{st} {n}" for st, n in summary["projects_by_stage"].items()))
        print("  按章节: " + "，".join(f"{ch} {n}" for ch, n in
                                      summary["projects_by_chapter"].items()))
    return 0


def cmd_templates(args) -> int:
    from planbook.plan.periods import parse_period
    from planbook.plan.registry import load_registry
    from planbook.store import ledger, statements
    from planbook.store.templates import write_templates

    data = _data(args)
    registry, period = load_registry(data), parse_period(_period(args, params=False))
    written = write_templates(registry, period, Path(args.out), data)
    written += statements.write_templates(registry, period, Path(args.out))
    written += ledger.write_template(registry, period, Path(args.out), data)  # years only
    for p in written:
        print(p)
    from planbook.store.figure_rows import reportable_from

    print(f"共生成 {len(written)} 个文件 → {args.out}")
    print(f"{args.period} 的数据自 {reportable_from(parse_period(args.period).code)} 起可报送"
          "（期间结束的次日）")
    return 0


def _date(text: str | None, option: str):
    import datetime as dt

    from planbook.errors import UsageError

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a date", hint=f"{option} YYYY-MM-DD") from None


def cmd_ingest(args) -> int:
    from planbook.store import ledger, statements
    from planbook.store.intake import ingest

    files = [Path(f) for f in args.files]
    received = _date(args.received, "--received")
    # Progress workbooks (工作进展 / 项目进展) and village ledgers (村编号, 年份) go to their own
    # intake; figures to the other.
    progress = [f for f in files if statements.is_progress_file(f)]
    ledgers = [f for f in files if f not in progress and ledger.is_ledger_file(f)]
    figures = [f for f in files if f not in progress and f not in ledgers]
    ok = True
    if ledgers:
        report = ledger.ingest(ledgers, _data(args), dry_run=args.dry_run, received=received,
                               check=False)
        for line in report.summary_lines():
            print(line)
        ok = report.ok
        if not figures and not progress:
            return 0 if ok else 1
    if figures or not progress:
        report = ingest(figures, _data(args), dry_run=args.dry_run, received=received,
                        confirm=args.confirm, check=False,
                        progress=lambda text: print(text, file=sys.stderr))
        for line in report.summary_lines():
            print(line)
        ok = ok and report.ok
    if progress:
        report = statements.ingest(progress, _data(args), dry_run=args.dry_run,
                                   today=received, check=False)
        for line in report.summary_lines():
            print(line)
        ok = ok and report.ok
    return 0 if ok else 1


def cmd_status(args) -> int:
    from planbook.assess import rules as assess
    from planbook.assess import tables
    from planbook.plan.periods import parse_period
    from planbook.plan.registry import load_registry
    from planbook.store.observations import check_store, load_all

    data = _data(args)
    reg = load_registry(data)
    check_store(data, reg)  # the same validator as build: a damaged store is refused
    period = parse_period(_period(args, params=False))
    as_of = None
    if not args.latest:
        from planbook.plan.params import params_file

        if params_file(period.code).is_file():  # the period's data cut-off, as its report
            as_of = _resolved(args).params.as_of
    obs = load_all(data, reg, as_of=as_of, period=period)
    results = assess.assess_all(reg, obs, period)
    if as_of:
        later = len(load_all(data, reg, period=period)) - len(obs)
        print(f"数据截至 {as_of}（{period.code} 的截止日）" + (
            f"；其后接收的 {later} 行未计入（--latest 计入全部）" if later else ""),
              file=sys.stderr)
    if args.json:
        print(json.dumps(tables.to_records(results), ensure_ascii=False, indent=2))
    else:
        print(tables.status_table(results).to_string(index=False))
    return 0


def cmd_sample(args) -> int:
    from planbook.store.sample import remove_sample, write_sample

    data = _data(args)
    if args.remove:
        lines = remove_sample(data)
    else:
        from planbook.assess.grades import write_sample_evaluation
        from planbook.plan.registry import load_registry

        # graded from the lights of the rows just written, in the same commit
        lines = write_sample(data, then=lambda d: write_sample_evaluation(d, load_registry(d)))
    for line in lines:
        print(line)
    return 0


def _resolved(args):
    """The period of a command, resolved once: params, kind, chapters, data folder, paths."""
    from planbook.run.period import resolve

    return resolve(_period(args, params=True), data=_data_option(args))


def cmd_run(args) -> int:
    from planbook.run.execute import run

    result = run(_resolved(args), force=args.force)
    print(f"已执行 {len(result.executed)} 个、沿用缓存 {len(result.cached)} 个章节 → {result.output}")
    return 0


def cmd_render(args) -> int:
    from planbook.build import render_book

    print(render_book(_resolved(args), engine=args.engine))
    return 0


def cmd_build(args) -> int:
    from planbook.build import build

    for line in build(_period(args, params=True), engine=args.engine, force=args.force,
                      data=_data_option(args), reissue=args.reissue):
        print(line)
    return 0


def _published_period(args):
    """A period whose published edition is read: first made whole if a crash interrupted its
    publishing (run.publish)."""
    from planbook.run.publish import recover_if_idle

    rp = _resolved(args)
    done = recover_if_idle(rp.code, rp.root)
    if done:
        print(f"planbook: {rp.code}: {done}", file=sys.stderr)
    return rp


def cmd_trace(args) -> int:
    from planbook.audit.trace import trace

    return trace(args.label, _published_period(args), as_json=args.json)


def cmd_verify(args) -> int:
    from planbook.audit.verify import verify

    return verify(_published_period(args))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="planbook", description=(
        "建德市县城承载能力提升和深化“千万工程”实施方案（2023—2027年）评估报告工具"))
    p.add_argument("--data", help="data package folder (default: ./data)")
    sub = p.add_subparsers(dest="command", required=True)

    def add(name, func, help_text):
        sp = sub.add_parser(name, help=help_text)
        sp.set_defaults(func=func)
        sp.add_argument("--data", default=argparse.SUPPRESS,
                        help="data package folder (default: ./data)")
        return sp

    sp = add("plan", cmd_plan, "registry summary; --leads: every lead with its basis")
    sp.add_argument("--json", action="store_true")
    sp.add_argument("--leads", action="store_true",
                    help="list every indicator and project with its lead, co, basis, and whether "
                         "the plan states it or it awaits the 工作专班's confirmation")
    sp.add_argument("--by", choices=("lead", "item", "status"), default="lead",
                    help="--leads grouped by lead department (default), plan item or status")
    sp = add("templates", cmd_templates, "department workbooks to fill in")
    sp.add_argument("--period", required=True)
    sp.add_argument("--out", required=True)
    sp = add("ingest", cmd_ingest, "validate and store department figures")
    sp.add_argument("files", nargs="+")
    sp.add_argument("--dry-run", action="store_true")
    sp.add_argument("--received", metavar="YYYY-MM-DD",
                    help="the day the files were received (back-filling; default: today)")
    sp.add_argument("--confirm", action="store_true",
                    help="store rows the plausibility checks flag (checked and correct)")
    sp = add("status", cmd_status, "per-indicator status table")
    sp.add_argument("--period", required=True)
    sp.add_argument("--latest", action="store_true",
                    help="use every stored row, ignoring the period's data cut-off (as_of)")
    sp.add_argument("--json", action="store_true")
    sp = add("run", cmd_run, "execute the chapter notebooks")
    sp.add_argument("--period", required=True)
    sp.add_argument("--force", action="store_true", help="ignore the cache")
    sp = add("render", cmd_render, "render the book (HTML and PDF)")
    sp.add_argument("--period", required=True)
    sp.add_argument("--engine", choices=("auto", "quarto", "builtin"), default="auto")
    sp = add("build", cmd_build, "validate, run and render: the one command analysts use")
    sp.add_argument("--period", required=True, help="2025, 2026-10, 2026-01..2026-10, default")
    sp.add_argument("--engine", choices=("auto", "quarto", "builtin"), default="auto")
    sp.add_argument("--force", action="store_true", help="ignore the cache")
    sp.add_argument("--reissue", action="store_true",
                    help="re-issue a published period with newer data: a new edition (修订版); "
                         "the previous one is kept under reports/editions/P/N/")
    sp = add("trace", cmd_trace, "where a figure, table or number came from")
    sp.add_argument("label")
    sp.add_argument("--period", required=True)
    sp.add_argument("--json", action="store_true")
    sp = add("verify", cmd_verify, "re-execute and compare with what was published")
    sp.add_argument("--period", required=True)
    sp = add("sample", cmd_sample, "regenerate the illustrative sample data (real rows are kept)")
    sp.add_argument("--remove", action="store_true",
                    help="remove every sample row from the store and the village records")
    return p


def _cap_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas before any thread starts. By default every thread (a range
    builds two periods at once, renders HTML and PDF side by side) may get its own arena,
    and memory freed in one is not reused by another: the process grew over a range of
    months. With one arena per core it stays within a few MiB of one month's peak."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        libc.mallopt(-8, arenas)  # M_ARENA_MAX; a no-op on a libc without it (musl)
    except (OSError, AttributeError):
        pass


def _recover_store(args) -> None:
    """Before any command reads the data folder: finish or roll back an ingest a kill
    interrupted (store.commit), and say so. A writer does it itself under its lock."""
    given = getattr(args, "data", None)
    data = Path(given) if given else paths.data_dir()
    if data.is_dir():
        from planbook.store import commit

        commit.say(commit.recover_if_idle(data))


def main(argv: list[str] | None = None) -> int:
    _cap_malloc_arenas()
    args = parser().parse_args(argv)
    try:
        _recover_store(args)
        return args.func(args)
    except PlanbookError as err:
        print(f"planbook {args.command}: {err}", file=sys.stderr)
        return err.exit_code
    except OSError as exc:  # the last resort: a fault of the machine no edge translated
        from planbook.errors import EnvironmentFault

        err = EnvironmentFault.from_os(exc, doing="读写", unchanged=False)
        print(f"planbook {args.command}: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("planbook: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `planbook trace … | head`: the reader left; nothing more to say and no traceback.
        # stdout is pointed at devnull so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
