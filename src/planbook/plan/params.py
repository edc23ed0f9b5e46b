"""Reporting-period parameters: params/<period>.yml, the values papermill injects."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from planbook import clock, paths
from planbook.errors import ParamsError
from planbook.plan.periods import FIRST_YEAR, LAST_YEAR, Period, parse_period

REQUIRED = ("period", "as_of", "data_dir", "kind", "plan_id")
# Report kinds, as China's 规划实施评估 practice has them: a yearly 年度评估, the 中期评估 at
# the plan's midpoint (2025: it covers 2023–2025), the 总结评估 of the last year (2027, once
# its cut-off has passed) and the monthly 晾晒通报.
KINDS = ("annual", "midterm", "final", "briefing")
KIND_ZH = {"annual": "年度评估", "midterm": "中期评估", "final": "总结评估",
           "briefing": "工作进展通报"}
_PERIOD_KIND_ZH = {"year": "年份", "quarter": "季度", "month": "月份"}
MIDTERM_YEAR = (FIRST_YEAR + LAST_YEAR) // 2  # 2025
FINAL_YEAR = LAST_YEAR  # 2027
PLAN_ID = "jiande-2023-2027"


@dataclass(frozen=True)
class Params:
    """What one report is built from. Papermill injects exactly these keys into each notebook."""

    period: str  # 报告期间: 2025 or 2026-10
    as_of: str  # 数据截至日期, ISO date
    data_dir: str  # 数据目录, relative to the project root
    kind: str  # 报告类型: annual 年度评估 / midterm 中期评估 / final 总结评估 / briefing 月度晾晒通报
    plan_id: str  # 方案编号

    @property
    def parsed_period(self) -> Period:
        return parse_period(self.period)

    @property
    def label_zh(self) -> str:
        """2025年, 2026年10月."""
        return self.parsed_period.label_zh

    @property
    def as_of_zh(self) -> str:
        """2026年3月31日."""
        d = dt.date.fromisoformat(self.as_of)
        return f"{d.year}年{d.month}月{d.day}日"

    @property
    def kind_zh(self) -> str:
        """年度评估, 中期评估, 总结评估, 工作进展通报."""
        return KIND_ZH[self.kind]

    @property
    def evaluation(self) -> bool:
        """An evaluation report (a book), not the monthly briefing."""
        return self.kind != "briefing"

    def data_path(self, root: Path | None = None) -> Path:
        p = Path(self.data_dir)
        return p if p.is_absolute() else (root or paths.project_root()) / p

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


class _TextDates(yaml.SafeLoader):
    """Safe loading that leaves dates as text, so a bad date is reported with its key."""


_TextDates.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}


class _DuplicateKey(yaml.YAMLError):
    pass


def _mapping_without_duplicates(loader, node, deep=False):
    """A key written twice is refused (YAML would silently keep the last value)."""
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _DuplicateKey(f"键 {key} 出现两次（第 {seen[key] + 1} 行和第 "
                                f"{key_node.start_mark.line + 1} 行）")
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_TextDates.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                           _mapping_without_duplicates)

# The kind of report each kind of period gets by the house rule (house_kind), and the kinds
# a period's params may name: a year is 年度评估, or 中期评估 at the midpoint year, or
# 总结评估 in the plan's last year; a month is a briefing.


def kinds_for(period: Period) -> tuple[str, ...]:
    """The report kinds a period may be reported with (the first is the house rule's)."""
    if period.kind == "month":
        return ("briefing",)
    if period.kind != "year":
        return ()
    if period.year == MIDTERM_YEAR:
        return ("midterm", "annual")
    if period.year == FINAL_YEAR:
        return ("final", "annual")
    return ("annual",)


def house_kind(period: Period) -> str | None:
    """2025 → midterm, 2027 → final, another year → annual, a month → briefing."""
    kinds = kinds_for(period)
    return kinds[0] if kinds else None
# as_of: the data are as of the period's end at the earliest, and at most this long after.
MAX_AS_OF_DAYS = 2 * 366



def period_refusal(period: str, *, kind: str | None = None, as_of: str | None = None,
                   today: dt.date | None = None) -> str | None:
    """Why a period cannot be reported on (templates, status, build alike), or None: a
    period beyond the plan, or a cut-off (as_of) not yet reached, whose report would change
    under an ordinary ingest after it is published. The 总结评估 (kind final, params/2027.yml)
    follows the same rule: it can be built once its cut-off (31 March 2028) has passed, on
    whatever data exist then; `kind` is accepted for the callers that know it."""
    p = parse_period(period)
    if not FIRST_YEAR <= p.year <= LAST_YEAR:
        return (f"期间 {p.code} 不在方案期内（{FIRST_YEAR}—{LAST_YEAR} 年）："
                "不生成模板、状态表或报告")
    today = today or clock.today()
    if as_of is not None and dt.date.fromisoformat(as_of) > today:
        return (f"期间 {p.code} 的数据截止日 {as_of} 晚于今天（{today.isoformat()}）："
                "截止日过后才能生成报告，在此之前报告会随新报送的数据而变")
    return None


def check_period(period: str, *, kind: str | None = None, as_of: str | None = None,
                 today: dt.date | None = None) -> None:
    """Raise ParamsError with period_refusal's message."""
    why = period_refusal(period, kind=kind, as_of=as_of, today=today)
    if why:
        raise ParamsError(why, hint=f"期间为 {FIRST_YEAR}—{LAST_YEAR} 年内的年份或月份；"
                                    "params/<期间>.yml 的 as_of 不晚于今天")


def params_file(period: str, root: Path | None = None) -> Path:
    return paths.params_dir(root) / f"{period}.yml"


def resolve_period(period: str, root: Path | None = None) -> str:
    """`default` means params/default.yml's `period`, else the latest annual params file."""
    if period != "default":
        return period
    default = params_file("default", root)
    if default.is_file():
        raw = yaml.safe_load(default.read_text(encoding="utf-8")) or {}
        if "period" not in raw:
            raise ParamsError(f"{default} 缺少键 period",
                              hint="在 params/default.yml 中写一行，如 period: \"2025\"")
        return str(raw["period"])
    years = sorted(p.stem for p in paths.params_dir(root).glob("[0-9][0-9][0-9][0-9].yml"))
    if not years:
        raise ParamsError(f"{paths.params_dir(root)} 中没有年度参数文件（params/<年份>.yml）",
                          hint="新建一个：planbook period new 2025")
    return years[-1]


def load_params(period: str, root: Path | None = None, *, today: dt.date | None = None
                ) -> Params:
    """Read and check params/<period>.yml: every key present, none unknown, values well-formed.
    `today`: the day the cut-off is judged against (default clock.today())."""
    period = resolve_period(period, root)
    path = params_file(period, root)
    if not path.is_file():
        raise ParamsError(f"没有期间 {period} 的参数文件 {path}",
                          hint=f"新建：planbook period new {period}（键为 {'、'.join(REQUIRED)}）")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDates) or {}  # noqa: S506
    except _DuplicateKey as exc:
        raise ParamsError(f"{path}：{exc}", hint="每个键只写一行") from None
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path} 不是有效的 YAML（{exc}）",
                          hint="每行写“键: 值”，改正所指的行") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path} 应由“键: 值”的行组成",
                          hint=f"写出这几个键：{'、'.join(REQUIRED)}")
    missing = [k for k in REQUIRED if k not in raw]
    unknown = [k for k in raw if k not in REQUIRED]
    if missing or unknown:
        parts = ([f"缺少键 {'、'.join(missing)}"] if missing else []) + (
            [f"有未知的键 {'、'.join(map(str, unknown))}"] if unknown else [])
        raise ParamsError(f"{path}：{'；'.join(parts)}",
                          hint=f"参数文件恰好有这几个键：{'、'.join(REQUIRED)}")
    values = {k: raw[k] for k in REQUIRED}
    if isinstance(values["as_of"], dt.date):
        values["as_of"] = values["as_of"].isoformat()
    values = {k: str(v) for k, v in values.items()}
    parsed = parse_period(values["period"], where=f"{path} 的键 period")
    if parsed.code != period:
        raise ParamsError(f"{path} 的键 period 为 {values['period']}，而文件名是期间 {period}",
                          hint="使文件名与其中的 period 一致")
    if values["kind"] not in KINDS:
        raise ParamsError(f"{path} 的键 kind 为 {values['kind']}，不是已知的报告类型",
                          hint=f"取其一：{'、'.join(KINDS)}")
    try:
        as_of = dt.date.fromisoformat(values["as_of"])
    except ValueError:
        raise ParamsError(f"{path} 的键 as_of 为 {values['as_of']}，不是日期",
                          hint="截止日写成 2026-03-31 的形式") from None
    # The params must describe the period they name: a briefing's kind in a year's file
    # would replace the annual book with a briefing.
    allowed = kinds_for(parsed)
    if values["kind"] not in allowed:
        raise ParamsError(f"{path} 的键 kind 为 {values['kind']}，但 {period} 是"
                          f"{_PERIOD_KIND_ZH.get(parsed.kind, parsed.kind)}",
                          hint=f"{period} 的 kind 应为 {' 或 '.join(allowed)}"
                          if allowed else "参数文件只为年份和月份而设")
    if values["plan_id"] != PLAN_ID:
        raise ParamsError(f"{path} 的键 plan_id 为 {values['plan_id']}，不是本方案的编号",
                          hint=f"写 plan_id: {PLAN_ID}")
    latest = parsed.end + dt.timedelta(days=MAX_AS_OF_DAYS)
    if not parsed.end <= as_of <= latest:
        raise ParamsError(f"{path} 的键 as_of 为 {values['as_of']}，不在 {parsed.end} 至 "
                          f"{latest} 之间",
                          hint=f"{period} 的数据截止日取其最后一天（{parsed.end}）或更晚，"
                               "两年以内")
    check_period(period, kind=values["kind"], as_of=values["as_of"], today=today)
    return Params(**values)


def check_injected(values: dict) -> Params:
    """Used inside notebooks: refuse a missing or unknown parameter, naming the key."""
    missing = [k for k in REQUIRED if values.get(k) in (None, "")]
    if missing:
        raise ParamsError(f"笔记本参数未设置：{'、'.join(missing)}",
                          hint="通过 planbook run --period P 运行该笔记本")
    return Params(**{k: str(values[k]) for k in REQUIRED})


def house_cutoff(period: Period) -> dt.date:
    """The house rule for a period's data cut-off: a briefing on the 10th of the next month,
    a year's report on 31 March of the next year (as params/2026-10.yml and 2025.yml)."""
    if period.kind == "year":
        return dt.date(period.year + 1, 3, 31)
    after = period.end + dt.timedelta(days=1)
    return after.replace(day=10)


def check_cutoff(period: Period, as_of: dt.date, today: dt.date) -> None:
    """A cut-off says what the report counts: never before the period ends (its figures
    cannot exist yet) nor after today (the report would claim data not yet received)."""
    if as_of < period.end:
        raise ParamsError(f"截止日 {as_of} 早于 {period.code} 的最后一天 {period.end}",
                          hint=f"截止日取 {period.end} 或更晚")
    if as_of > today:
        raise ParamsError(f"截止日 {as_of} 在今天（{today}）之后：报告会声称含有尚未收到的数据",
                          hint=f"截止日取今天或更早；到 {as_of} 之后再建立")


_PARAMS_TEXT = {"annual": "# Annual evaluation report for {p}. Keys are exactly those papermill "
                          "injects.\n",
                "midterm": "# Mid-term evaluation (中期评估) for {p}: covers the plan's first years. "
                           "Keys are exactly those papermill injects.\n",
                "final": "# Final evaluation (总结评估) for {p}: the whole plan period. Keys are "
                         "exactly those papermill injects.\n",
                "briefing": "# Monthly progress briefing (晾晒通报) for {p}.\n"}


def new_params(code: str, *, today: dt.date, as_of: dt.date | None = None,
               replace: bool = False, root: Path | None = None,
               kind: str | None = None) -> tuple[Path, list[str]]:
    """`planbook period new P`: write params/P.yml (the kind of P, the house cut-off) and
    say what was chosen. Without `as_of`, a house cut-off not yet reached is today: the
    report counts what has arrived, and `build --reissue` later takes in the rest.
    `kind`: another kind the period allows (kinds_for), e.g. annual for 2027 instead of the
    house rule's final."""
    period = parse_period(code)
    allowed = kinds_for(period)
    if kind is not None and allowed and kind not in allowed:
        raise ParamsError(f"{period.code} 不能编制{KIND_ZH.get(kind, kind)}（--kind {kind}）",
                          hint=f"{period.code} 可用：" + "、".join(
                              f"{k}（{KIND_ZH[k]}）" for k in allowed))
    kind = kind or house_kind(period)
    if kind is None:
        raise ParamsError(f"{period.code} 是季度：报告只按年（年度评估）和按月（进度简报）编制",
                          hint="写年份（2026）或月份（2026-11）")
    if not FIRST_YEAR <= period.year <= LAST_YEAR:
        raise ParamsError(f"{period.code} 不在方案期（{FIRST_YEAR}—{LAST_YEAR}年）内",
                          hint=f"写 {FIRST_YEAR}—{LAST_YEAR} 年内的年份或月份")
    path = params_file(period.code, root)
    if path.is_file() and not replace:
        raise ParamsError(f"{path} 已存在", hint="保留它，或加 --force 改写")
    if today <= period.end:
        raise ParamsError(f"{period.code} 尚未结束（至 {period.end}）",
                          hint=f"{period.end + dt.timedelta(days=1)} 起再建立")
    rule = house_cutoff(period)
    notes = []
    if as_of is None:
        as_of = min(rule, today)
        if as_of < rule:
            notes.append(f"按惯例截止日为 {rule}，尚未到；本期截止日取今天 {as_of}。"
                         f"{rule} 之后如需纳入其间收到的数据：planbook build --period "
                         f"{period.code} --reissue")
    check_cutoff(period, as_of, today)
    text = _PARAMS_TEXT[kind].format(p=period.code)
    text += (f'period: "{period.code}"\nas_of: "{as_of.isoformat()}"\ndata_dir: data\n'
             f"kind: {kind}\nplan_id: {PLAN_ID}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    load_params(period.code, root, today=today)  # what was written reads back as valid
    return path, notes
