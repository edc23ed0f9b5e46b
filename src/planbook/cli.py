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
        raise UsageError(f"--data {given!r}：目录不存在",
                         hint="--data 指向数据包（含 plan/ 和 observations/ 的目录），"
                              "或不写，用 ./data")
    return Path(given).resolve()


def _data_option(args) -> Path | None:
    """--data checked (None when not given): the period commands pass it to resolve()."""
    return None if getattr(args, "data", None) is None else _data(args)


def _period(args, *, params: bool) -> str:
    """--period checked before anything runs: a malformed period, or (for the commands that
    report on it) one without params/<P>.yml, is a usage error (exit 2) naming what was given."""
    from planbook.errors import PeriodError
    from planbook.plan.params import check_period, params_file
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
            raise UsageError(f"--period {text!r}：不是期间，也不是两个月份的范围",
                             hint="写 2025、2026-10 或（build）2026-01..2026-10") from None
        raise UsageError(f"--period {text!r}：{err.message}", hint=err.hint) from None

    # Beyond the plan: one refusal for every command (plan.params); a period with params is
    # checked where they are read, with their kind and cut-off.
    for p in periods:
        if not (params and params_file(p).is_file()):
            try:
                check_period(p)
            except PlanbookError as err:  # given on the command line: a usage error naming it
                raise UsageError(f"--period {text!r}：{err.message}", hint=err.hint) from None
    if params:
        missing = [p for p in periods if not params_file(p).is_file()]
        if missing:
            have = sorted(f.stem for f in paths.params_dir().glob("[0-9]*.yml"))
            raise UsageError(f"--period {text!r}：没有 params/{missing[0]}.yml",
                             hint=f"新建这个期间：planbook period new {missing[0]}" + (
                                 f"（已有参数的期间：{'、'.join(have)}）" if have else ""))
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
          f"任务条目 {summary['tasks']} 条（第二部分总体目标 1 条、第三至第六部分任务 "
          f"{summary['tasks'] - 1} 项，报告按后者计任务数），责任单位 {summary['departments']} 个，"
          f"方案点名项目 {summary['projects']} 个")
    print("\n按章节:")
    for ch, info in summary["by_chapter"].items():
        secs = "，".join(f"{s} {n}" for s, n in info["sections"].items())
        print(f"  {ch} {info['title']}: {info['indicators']} 项" + (f"（{secs}）" if secs else ""))
    print("\n按类型:")
    from planbook.plan.registry import KIND_ZH

    for kind, n in summary["by_kind"].items():
        print(f"  {KIND_ZH.get(kind, kind)}: {n}")
    print("\n按牵头单位:")
    for dept, n in summary["by_lead_department"].items():
        print(f"  {dept}: {n}")
    if summary["projects"]:
        print("\n点名项目（按目标阶段）:")
        print("  " + "，".join(f"{st} {n}" for st, n in summary["projects_by_stage"].items()))
        print("  按章节: " + "，".join(f"{ch} {n}" for ch, n in
                                      summary["projects_by_chapter"].items()))
    return 0


def _today():
    """Today, for `period new`'s cut-off rule (a test replaces it)."""
    import datetime as dt

    return dt.date.today()


def cmd_period(args) -> int:
    from planbook.plan.params import new_params
    from planbook.plan.periods import parse_period

    try:
        code = parse_period(args.new_period).code
    except PlanbookError as err:
        raise UsageError(f"{args.new_period!r}：{err.message}", hint=err.hint) from None
    path, notes = new_params(code, today=_today(), as_of=_date(args.as_of, "--as-of"),
                             replace=args.force, kind=args.kind)
    params = path.read_text(encoding="utf-8")
    print(f"已写入 {path}")
    print("\n".join(f"  {line}" for line in params.splitlines() if not line.startswith("#")))
    for note in notes:
        print(note)
    print("接下来：")
    print(f"  planbook templates --period {code} --out out/{code}   # 生成各部门填报的工作簿")
    print(f"  planbook ingest out/{code}/*.xlsx --dry-run           # 收回后先校验，"
          "无误再去掉 --dry-run 入库")
    print(f"  planbook build --period {code}                        # 生成报告")
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
    if period.kind == "year":  # the evaluator's file of a yearly report
        from planbook.store.evaluation import write_template as evaluation_template

        written += evaluation_template(registry, period.code, Path(args.out))
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
        raise UsageError(f"{option} {text!r} 不是日期", hint=f"{option} YYYY-MM-DD") from None


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
                                   received=received, check=False)
        for line in report.summary_lines():
            print(line)
        ok = ok and report.ok
    return 0 if ok else 1


def cmd_status(args) -> int:
    from planbook.assess import rules as assess
    from planbook.assess import tables
    from planbook.plan.periods import parse_period
    from planbook.plan.registry import load_registry
    from planbook.store.check import check_package
    from planbook.store.observations import load_all, received_after

    data = _data(args)
    reg = load_registry(data)
    period = parse_period(_period(args, params=False))
    check_package(data, reg, period.code)  # the same check as build: a damaged store is refused
    as_of = None
    if not args.latest:
        from planbook.plan.params import params_file

        if params_file(period.code).is_file():  # the period's data cut-off, as its report
            as_of = _resolved(args).params.as_of
    obs = load_all(data, reg, as_of=as_of, period=period)
    results = assess.assess_all(reg, obs, period)
    if as_of:
        later = received_after(data, reg, period, as_of)
        print(f"数据截至 {as_of}（{period.code} 的截止日）" + (
            f"；其后接收的 {later} 行未计入（--latest 计入全部）" if later else ""),
              file=sys.stderr)
    if args.json:
        print(json.dumps(tables.to_records(results), ensure_ascii=False, indent=2))
    else:
        print(tables.status_table_zh(results).to_string(index=False))
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
    from planbook.plan.registry import load_registry
    from planbook.run.execute import run
    from planbook.store.check import check_package

    rp = _resolved(args)
    # a damaged store file is named here (exit 2), not met by every chapter on its own
    check_package(rp.data, load_registry(rp.data), rp.code)
    result = run(rp, force=args.force)
    print(f"已执行 {len(result.executed)} 个、沿用缓存 {len(result.cached)} 个章节 → {result.output}")
    return 0


def cmd_render(args) -> int:
    from planbook.build import render_book

    r = render_book(_resolved(args), engine=args.engine)
    print(f"{r.period} 渲染完成（{r.engine}，{r.pages} 页，用时 {r.seconds:.1f} 秒）"
          + ("；含示例数据，每页注明" if r.sample_notice else ""))
    print(f"  HTML: {r.index_html}")
    print(f"  PDF:  {r.pdf}")
    for note in r.notes():
        print(note)
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
        print(f"planbook：{rp.code}：{done}", file=sys.stderr)
    return rp


def cmd_trace(args) -> int:
    from planbook.audit.trace import trace

    return trace(args.label, _published_period(args), as_json=args.json)


def cmd_verify(args) -> int:
    from planbook.audit.verify import verify

    return verify(_published_period(args))


class _Formatter(argparse.HelpFormatter):
    def __init__(self, prog, max_help_position=30, **kw):
        super().__init__(prog, max_help_position=max_help_position, **kw)

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


# argparse's own messages (Python's gettext catalogue has no Chinese): each English pattern
# and its Chinese, applied to what it reports before the usage error is printed.
_MESSAGES = [
    (r"the following arguments are required: (.*)", r"缺少必需的参数：\1"),
    (r"unrecognized arguments: (.*)", r"无法识别的参数：\1"),
    (r"invalid choice: (.*) \(choose from (.*)\)",
     lambda m: f"无效的选择 {m[1]}（可选：{m[2].replace(chr(39), '').replace(', ', '、')}）"),
    (r"expected one argument", "需要一个值"),
    (r"expected at least one argument", "至少需要一个值"),
    (r"expected at most one argument", "至多一个值"),
    (r"ignored explicit argument (.*)", r"不接受值 \1"),
    (r"ambiguous option: (.*) could match (.*)", r"选项 \1 有歧义，可能是：\2"),
    (r"not allowed with argument (.*)", r"不能与 \1 同时使用"),
    (r"one of the arguments (.*) is required", r"须给出其中之一：\1"),
    (r"invalid (.*) value: (.*)", r"值无效：\2"),
    (r"argument (.*?): ", r"参数 \1："),
]


def _zh(message: str) -> str:
    import re

    for pattern, chinese in _MESSAGES:
        message = re.sub(pattern, chinese, message)
    return message


class ChineseParser(argparse.ArgumentParser):
    """argparse with its help titles, usage and errors in Chinese; names stay ASCII."""

    def __init__(self, *args, add_help: bool = True, **kw):
        kw.setdefault("formatter_class", _Formatter)
        super().__init__(*args, add_help=False, **kw)
        self._positionals.title, self._optionals.title = "位置参数", "选项"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="显示本帮助并退出")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}：错误：{_zh(message)}\n")


DATA_HELP = "数据包目录（默认：./data）"
PERIOD_HELP = "报告期间：年份 2025 或月份 2026-10"


def parser() -> argparse.ArgumentParser:
    p = ChineseParser(prog="planbook", description=(
        "建德市县城承载能力提升和深化“千万工程”实施方案（2023—2027年）评估报告工具"))
    p.add_argument("--data", metavar="目录", help=DATA_HELP)
    sub = p.add_subparsers(dest="command", required=True, title="命令", metavar="命令",
                           help="各命令的帮助：planbook 命令 -h")

    def add(name, func, help_text):
        sp = sub.add_parser(name, help=help_text, description=help_text)
        sp.set_defaults(func=func)
        sp.add_argument("--data", default=argparse.SUPPRESS, metavar="目录", help=DATA_HELP)
        return sp

    def period(sp, help_text=PERIOD_HELP):
        sp.add_argument("--period", required=True, metavar="期间", help=help_text)

    sp = add("plan", cmd_plan, "方案登记汇总；--leads：每项指标和项目的牵头单位及依据")
    sp.add_argument("--json", action="store_true", help="以 JSON 输出")
    sp.add_argument("--leads", action="store_true",
                    help="列出每项指标和项目的牵头单位、配合单位、依据，以及原文明确或推定、"
                         "工作专班已确认或待确认")
    sp.add_argument("--by", choices=("lead", "item", "status"), default="lead",
                    help="--leads 的分组：lead 按牵头单位（默认）、item 按方案条目、"
                         "status 按确认状态")
    sp = add("period", cmd_period, "报告期间的参数文件 params/<期间>.yml")
    verbs = sp.add_subparsers(dest="verb", required=True, title="操作", metavar="操作")
    new = verbs.add_parser("new", help="新建一个期间：按惯例的截止日写 params/<期间>.yml，"
                                      "并列出接下来的命令",
                           description="新建一个期间的参数文件：年度评估截止日为次年3月31日，"
                                       "月度进度简报为次月10日；截止日未到时取今天。"
                                       "报告类型按惯例：2025年为中期评估（midterm），2027年为"
                                       "总结评估（final），其他年份为年度评估（annual），"
                                       "月份为工作进展通报（briefing）")
    new.add_argument("new_period", metavar="期间", help="年份 2026 或月份 2026-11")
    new.add_argument("--as-of", metavar="日期",
                     help="数据截止日 YYYY-MM-DD（默认按惯例；不能早于期间结束，不能晚于今天）")
    new.add_argument("--force", action="store_true", help="改写已有的参数文件")
    new.add_argument("--kind", choices=("annual", "midterm", "final", "briefing"),
                     help="报告类型（默认按惯例；2025、2027年也可取 annual 年度评估）")
    sp = add("templates", cmd_templates, "生成各部门填报的工作簿")
    period(sp)
    sp.add_argument("--out", required=True, metavar="目录", help="工作簿写入的目录")
    sp = add("ingest", cmd_ingest, "校验并入库部门报送的数据和工作进展")
    sp.add_argument("files", nargs="+", metavar="文件", help="报送的 .xlsx 或 .csv 文件")
    sp.add_argument("--dry-run", action="store_true", help="只校验，不入库")
    sp.add_argument("--received", metavar="日期",
                    help="收到文件的日期 YYYY-MM-DD（补录时用；默认今天）")
    sp.add_argument("--confirm", action="store_true",
                    help="入库合理性检查标记的行（已核实无误）")
    sp = add("status", cmd_status, "逐项指标的进度表（按期间的数据截止日）")
    period(sp)
    sp.add_argument("--latest", action="store_true",
                    help="计入全部已存数据，不管期间的截止日（as_of）")
    sp.add_argument("--json", action="store_true", help="以 JSON 输出")
    sp = add("run", cmd_run, "执行各章笔记本")
    period(sp)
    sp.add_argument("--force", action="store_true", help="不用缓存")
    sp = add("render", cmd_render, "渲染报告（HTML 和 PDF）")
    period(sp)
    sp.add_argument("--engine", choices=("auto", "quarto", "builtin"), default="auto",
                    help="渲染引擎（默认 auto：有 quarto 用 quarto，否则内置）")
    sp = add("build", cmd_build, "校验、执行、渲染：分析人员日常用的一条命令")
    period(sp, "2025、2026-10、2026-01..2026-10 或 default")
    sp.add_argument("--engine", choices=("auto", "quarto", "builtin"), default="auto",
                    help="渲染引擎（默认 auto：有 quarto 用 quarto，否则内置）")
    sp.add_argument("--force", action="store_true", help="不用缓存")
    sp.add_argument("--reissue", action="store_true",
                    help="用新数据重新发布已发布的期间：新的一版（修订版），"
                         "上一版保留在 reports/editions/<期间>/<版次>/")
    sp = add("trace", cmd_trace, "溯源：图、表或数字从哪里来")
    sp.add_argument("label", metavar="标签", help="报告中的标签，或指标编号 ind_…")
    period(sp)
    sp.add_argument("--json", action="store_true", help="以 JSON 输出")
    sp = add("verify", cmd_verify, "重新执行并与已发布的报告比对")
    period(sp)
    sp = add("sample", cmd_sample, "重新生成示例数据（真实数据保留）")
    sp.add_argument("--remove", action="store_true",
                    help="从数据库和村级记录中删除全部示例数据行")
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
    except BrokenPipeError:  # before OSError, whose subclass it is
        # `planbook trace … | head`: the reader left; nothing more to say and no traceback.
        # stdout is pointed at devnull so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # the last resort: a fault of the machine no edge translated
        from planbook.errors import EnvironmentFault

        err = EnvironmentFault.from_os(exc, doing="读写", unchanged=False)
        print(f"planbook {args.command}: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("planbook：已中断", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
