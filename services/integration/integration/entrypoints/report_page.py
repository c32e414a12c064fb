"""The annual report as a printable page for people: Chinese and English, figures, charts as inline SVG.

Rendered on the server with Jinja2 (``integration/templates/annual_report.html``; autoescaped: every
text the page shows is escaped, the archive's included). The charts are SVG drawn here from the
figures (members over the year by month, standards by stage, royalties per quarter): no script,
no file fetched, so the page prints and archives as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from integration.domain.annual_report import (
    COMMITMENTS,
    FIGURES,
    MONTHS,
    QUARTERS,
    SECTIONS,
    STAGES,
    AnnualReport,
    Figure,
    Unit,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LANGUAGES = ("en", "zh")
environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "svg"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)

MONTH_NAMES = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "zh": tuple(f"{m}月" for m in range(1, 13)),
}
STAGE_NAMES = {
    "en": {
        "proposed": "Proposed",
        "accepted": "Accepted",
        "working_group": "Working group",
        "working_draft": "Working draft",
        "committee_draft": "Committee draft",
        "public_comment": "Public comment",
        "ballot": "Ballot",
        "approved": "Approved",
        "published": "Published",
        "filed": "Filed",
        "under_review": "Under review",
        "confirmed": "Confirmed",
        "revised": "Revised",
        "withdrawn": "Withdrawn",
        "rejected": "Rejected",
        "abandoned": "Abandoned",
    },
    "zh": {
        "proposed": "提案",
        "accepted": "立项",
        "working_group": "组建工作组",
        "working_draft": "工作组草案",
        "committee_draft": "征求意见稿（委员会）",
        "public_comment": "公开征求意见",
        "ballot": "投票",
        "approved": "批准",
        "published": "发布",
        "filed": "备案",
        "under_review": "复审中",
        "confirmed": "复审确认",
        "revised": "修订",
        "withdrawn": "废止",
        "rejected": "未立项",
        "abandoned": "终止",
    },
}
COMMITMENT_NAMES = {
    "en": {
        "royalty_free": "royalty-free",
        "frand": "FRAND",
        "declaration_later": "declaration to follow",
        "unwilling": "unwilling to license",
    },
    "zh": {"royalty_free": "免费许可", "frand": "FRAND许可", "declaration_later": "后续声明", "unwilling": "不愿许可"},
}

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Annual report {year}",
        "subtitle": "For the annual inspection of the alliance as a social organisation by the civil-affairs authority",
        "period": "Period: 1 January – 31 December {year} (UTC)",
        "in_progress": "The year is in progress: figures as of {as_of} (UTC).",
        "source": "Compiled from the platform's event archive only (archive version {seq}) on {as_of} (UTC). "
        "Each figure counts events by when they happened. Every figure lists the events it counts at "
        "GET {base}/figures/{{figure}}/events.",
        "figure": "Figure",
        "value": "Value",
        "events": "Events",
        "key": "Reference",
        "section.members": "Membership",
        "section.members_by_month": "Members over the year",
        "section.council": "Council decisions",
        "section.standards": "Alliance standards",
        "section.standards_by_stage": "Standards projects by stage at the end of the year",
        "section.ipr": "IPR declarations",
        "section.patents": "Patents",
        "section.licences": "Licences",
        "section.royalties": "Royalties",
        "section.royalties_by_quarter": "Royalties per quarter",
        "section.training": "Training",
        "section.dues": "Membership dues",
        "members_start": "Members on 1 January",
        "members_end": "Members on 31 December",
        "members_end.partial": "Members now",
        "members_admitted": "Organisations admitted",
        "members_withdrawn": "Members withdrawn",
        "members_expelled": "Members expelled",
        "members_month_end": "Members at the end of {month}",
        "council_decisions": "Council decisions in all",
        "council_application_decisions": "Decisions on membership applications",
        "council_admissions": "of which: admitted",
        "council_rejections": "of which: rejected",
        "council_expulsions": "Expulsions",
        "council_standards_decisions": "Decisions on standards (proposals approved or rejected, review outcomes)",
        "standards_proposed": "Standards projects proposed",
        "standards_published": "Standards published",
        "standards_under_review": "Standards under periodic review at the end of the year",
        "standards_stage": "Projects at stage: {stage}",
        "ipr_declarations": "IPR declarations made in answer to calls",
        "declared_patents": "Patents declared on the standards published",
        "declared_patents.commitment": "of which: {commitment}",
        "patents_contributed": "Patents contributed by members",
        "patents_evaluated": "Patents evaluated for essentiality",
        "patents_evaluated_essential": "of which: found essential",
        "patents_evaluated_not_essential": "of which: found not essential",
        "licences_signed": "Pool licences signed",
        "licences_internal": "Internal cross-licences granted to new members",
        "royalties_collected": "Royalties collected",
        "royalties_distributed": "Royalties distributed to licensors",
        "royalties_admin_fee": "Administration fees retained",
        "royalties_collected.quarter": "Royalties collected in {quarter}",
        "royalties_distributed.quarter": "Royalties distributed in {quarter}",
        "training_held": "Training sessions held",
        "training_participants": "Participants (attendances)",
        "training_credit_hours": "Credit hours earned",
        "training_certificates": "Certificates issued",
        "dues_invoiced": "Dues invoiced",
        "dues_paid": "Dues paid",
        "chart.members": "Members at the end of each month",
        "chart.stages": "Standards projects by stage at the end of the year",
        "chart.royalties": "Royalties collected and distributed per quarter",
        "chart.collected": "Collected",
        "chart.distributed": "Distributed",
        "chart.start": "1 Jan",
        "chart.now": "(now)",
        "chart.none": "No projects",
        "chart.no_members": "No members",
        "chart.no_royalties": "No royalties collected or distributed",
        "chart.stages.partial": "Standards projects by stage now",
        "currency_unknown": "currency not stated by the events",
        "mixed_currency": "several currencies",
        "language": "中文",
        "language_name": "Switch to Chinese",
    },
    "zh": {
        "title": "{year}年度工作报告",
        "subtitle": "社会团体年度检查报告（报送登记管理机关）",
        "period": "报告期：{year}年1月1日至12月31日（UTC）",
        "in_progress": "本年度尚未结束：数据截至 {as_of}（UTC）。",
        "source": "本报告仅依据平台事件档案编制（档案版本 {seq}），编制时间 {as_of}（UTC）。"
        "各项数据按事件发生时间统计；每项数据所依据的事件可通过 "
        "GET {base}/figures/{{figure}}/events 逐条查阅。",
        "figure": "项目",
        "value": "数值",
        "events": "事件数",
        "key": "编号",
        "section.members": "会员情况",
        "section.members_by_month": "全年会员变化",
        "section.council": "理事会决策",
        "section.standards": "团体标准",
        "section.standards_by_stage": "年末标准项目所处阶段",
        "section.ipr": "知识产权披露",
        "section.patents": "专利",
        "section.licences": "许可",
        "section.royalties": "许可费",
        "section.royalties_by_quarter": "各季度许可费",
        "section.training": "培训",
        "section.dues": "会费",
        "members_start": "年初会员数（1月1日）",
        "members_end": "年末会员数（12月31日）",
        "members_end.partial": "当前会员数",
        "members_admitted": "新入会单位",
        "members_withdrawn": "退会单位",
        "members_expelled": "除名单位",
        "members_month_end": "{month}末会员数",
        "council_decisions": "理事会决定合计",
        "council_application_decisions": "入会申请决定",
        "council_admissions": "其中：批准入会",
        "council_rejections": "其中：不予批准",
        "council_expulsions": "除名决定",
        "council_standards_decisions": "标准事项决定（立项批准或否决、复审结论）",
        "standards_proposed": "标准立项提案",
        "standards_published": "发布标准",
        "standards_under_review": "年末处于复审中的标准",
        "standards_stage": "处于“{stage}”阶段的项目",
        "ipr_declarations": "响应征集提交的知识产权披露",
        "declared_patents": "已发布标准中披露的专利",
        "declared_patents.commitment": "其中：{commitment}",
        "patents_contributed": "会员贡献专利",
        "patents_evaluated": "完成必要性评估的专利",
        "patents_evaluated_essential": "其中：评为必要专利",
        "patents_evaluated_not_essential": "其中：评为非必要专利",
        "licences_signed": "签订专利池许可合同",
        "licences_internal": "授予新会员的内部交叉许可",
        "royalties_collected": "收取许可费",
        "royalties_distributed": "向许可人分配许可费",
        "royalties_admin_fee": "提取管理费",
        "royalties_collected.quarter": "{quarter}收取许可费",
        "royalties_distributed.quarter": "{quarter}分配许可费",
        "training_held": "举办培训场次",
        "training_participants": "参训人次",
        "training_credit_hours": "获得学时",
        "training_certificates": "颁发证书",
        "dues_invoiced": "应收会费",
        "dues_paid": "实收会费",
        "chart.members": "各月末会员数",
        "chart.stages": "年末标准项目所处阶段",
        "chart.royalties": "各季度许可费收取与分配",
        "chart.collected": "收取",
        "chart.distributed": "分配",
        "chart.start": "1月1日",
        "chart.now": "（至今）",
        "chart.none": "暂无项目",
        "chart.no_members": "暂无会员",
        "chart.no_royalties": "本年度无许可费收取或分配",
        "chart.stages.partial": "当前标准项目所处阶段",
        "currency_unknown": "事件未注明币种",
        "mixed_currency": "多种币种",
        "language": "English",
        "language_name": "切换为英文",
    },
}
QUARTER_NAMES = {"en": ("Q1", "Q2", "Q3", "Q4"), "zh": ("第一季度", "第二季度", "第三季度", "第四季度")}


def choose_language(lang: str | None, accept_language: str | None) -> str:
    """``lang`` when given (validated by the route), else the first of ours in Accept-Language, else English."""
    if lang in LANGUAGES:
        return lang
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-")[0]
        if code not in LANGUAGES:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                continue
        if q > 0 and (best is None or (-q, index) < (-best[0], best[1])):
            best = (q, index, code)
    return best[2] if best else "en"


def label(key: str, lang: str, complete: bool = True) -> str:
    """A figure's name in ``lang``."""
    t = TEXTS[lang]
    base, _, part = key.partition(".")
    if key == "members_end" and not complete:
        return t["members_end.partial"]
    if base == "members_month_end":
        return t["members_month_end"].format(month=MONTH_NAMES[lang][int(part) - 1])
    if base == "standards_stage":
        return t["standards_stage"].format(stage=STAGE_NAMES[lang][part])
    if base == "declared_patents" and part:
        return t["declared_patents.commitment"].format(commitment=COMMITMENT_NAMES[lang][part])
    if base in ("royalties_collected", "royalties_distributed") and part:
        return t[f"{base}.quarter"].format(quarter=QUARTER_NAMES[lang][QUARTERS.index(part)])
    return t[key]


def labels(key: str) -> dict[str, str]:
    return {lang: label(key, lang) for lang in LANGUAGES}


def formatted(figure: Figure, lang: str) -> str:
    value = figure.value
    if figure.definition.unit is Unit.MONEY:
        text = f"{value:,.2f}"
        if figure.currency:
            text = f"{figure.currency} {text}"
        return text
    if isinstance(value, Decimal):
        return f"{value.normalize():,f}"
    return f"{value:,}"


# ---------------------------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    key: str  # the figure it draws
    label: str  # what the bar shows, in words (its SVG title)
    value: str
    series: int = 0


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class XLabel:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass
class Chart:
    id: str
    title: str
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[XLabel] = field(default_factory=list)
    legend: list[tuple[int, str]] = field(default_factory=list)
    plot: tuple[float, float, float, float] = (0, 0, 0, 0)  # left, top, right, bottom
    empty: str | None = None
    horizontal: bool = False


def axis(value: float, whole: bool) -> tuple[float, list[float]]:
    """The axis for values up to ``value``: 4 equal steps of 1, 1.5, 2, 2.5, 3 or 5 × 10^k (whole steps
    for counts), so the longest bar fills most of the plot; its maximum and its 5 tick values."""
    if whole and value <= 4:  # a few: one tick per unit, the longest bar full height
        top = max(1, math.ceil(value))
        return float(top), [float(i) for i in range(top + 1)]
    rough = max(value, 1e-9) / 4
    power = 10.0 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0) if rough <= m * power * (1 + 1e-9))
    if whole:
        step = max(1.0, math.ceil(step))
    return step * 4, [step * i for i in range(5)]


def tick_text(value: float, money: bool) -> str:
    value = float(value)
    if money and value >= 1_000_000:
        return f"{value / 1_000_000:,.{0 if (value / 1_000_000).is_integer() else 1}f}M"
    if money and value >= 10_000:
        return f"{value / 1000:,.{0 if (value / 1000).is_integer() else 1}f}k"
    return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}".rstrip("0")


def _ticks(maximum: float, values: list[float], top: float, bottom: float, money: bool = False) -> list[Tick]:
    return [Tick(bottom - (bottom - top) * v / maximum, tick_text(v, money)) for v in values]


def members_chart(report: AnnualReport, lang: str) -> Chart:
    t = TEXTS[lang]
    points = [(t["chart.start"], report.figures["members_start"])]
    points += [(MONTH_NAMES[lang][i], report.figures[f"members_month_end.{m}"]) for i, m in enumerate(MONTHS)]
    chart = Chart("chart-members", t["chart.members"], 680, 250, plot=(48, 16, 668, 214))
    left, top, right, bottom = chart.plot
    if not any(f.value for _, f in points):
        return _empty(chart, t["chart.no_members"])
    maximum, values = axis(max(float(f.value) for _, f in points), whole=True)
    chart.ticks = _ticks(maximum, values, top, bottom)
    slot = (right - left) / len(points)
    for i, (name, figure) in enumerate(points):
        cx = left + slot * (i + 0.5)
        chart.x_labels.append(XLabel(cx, bottom + 16, name))
        text = label(figure.key, lang)
        if i > 0 and not _month_over(report, i):
            if not _month_begun(report, i):
                continue  # a month to come: nothing to draw
            # The month under way: its bar is the members now (the archive holds nothing later).
            chart.x_labels.append(XLabel(cx, bottom + 30, t["chart.now"]))
            text = t["members_end.partial"]
        height = (bottom - top) * float(figure.value) / maximum
        chart.bars.append(
            Bar(cx - slot * 0.3, bottom - height, slot * 0.6, height, figure.key, text, f"{figure.value:,}")
        )
    return chart


def _empty(chart: Chart, text: str) -> Chart:
    """A chart with nothing to draw: one line of text saying so, not an empty frame."""
    chart.empty, chart.height = text, 40
    return chart


def _month_begun(report: AnnualReport, index: int) -> bool:
    return datetime(report.year, index, 1, tzinfo=report.start.tzinfo) <= report.as_of


def _month_over(report: AnnualReport, index: int) -> bool:
    month_end = datetime(report.year + (index == 12), index % 12 + 1, 1, tzinfo=report.start.tzinfo)
    return month_end <= report.as_of


def stages_chart(report: AnnualReport, lang: str) -> Chart:
    t = TEXTS[lang]
    shown = [(s, report.figures[f"standards_stage.{s}"]) for s in STAGES]
    shown = [(s, f) for s, f in shown if f.value]
    row = 24
    height = max(1, len(shown)) * row + 40
    title = t["chart.stages"] if report.complete else t["chart.stages.partial"]
    chart = Chart("chart-stages", title, 680, height, plot=(190, 8, 620, height - 28), horizontal=True)
    left, top, right, bottom = chart.plot
    if not shown:
        return _empty(chart, t["chart.none"])
    maximum, values = axis(max(float(f.value) for _, f in shown), whole=True)
    chart.ticks = [Tick(left + (right - left) * v / maximum, tick_text(v, False)) for v in values]
    for i, (stage, figure) in enumerate(shown):
        y = top + i * row + 4
        width = (right - left) * float(figure.value) / maximum
        name = STAGE_NAMES[lang][stage]
        chart.x_labels.append(XLabel(left - 8, y + row / 2 + 1, name, "end"))
        chart.bars.append(Bar(left, y, width, row - 8, figure.key, label(figure.key, lang), f"{figure.value:,}"))
    return chart


def royalties_chart(report: AnnualReport, lang: str) -> Chart:
    t = TEXTS[lang]
    chart = Chart("chart-royalties", t["chart.royalties"], 680, 260, plot=(64, 34, 668, 224))
    chart.legend = [(0, t["chart.collected"]), (1, t["chart.distributed"])]
    left, top, right, bottom = chart.plot
    series = [
        [report.figures[f"{name}.{q}"] for q in QUARTERS] for name in ("royalties_collected", "royalties_distributed")
    ]
    if not any(f.value for s in series for f in s):
        chart.legend = []
        return _empty(chart, t["chart.no_royalties"])
    maximum, values = axis(max(float(f.value) for s in series for f in s), whole=False)
    chart.ticks = _ticks(maximum, values, top, bottom, money=True)
    slot = (right - left) / len(QUARTERS)
    for i in range(len(QUARTERS)):
        cx = left + slot * (i + 0.5)
        chart.x_labels.append(XLabel(cx, bottom + 16, QUARTER_NAMES[lang][i]))
        for s, figures in enumerate(series):
            figure = figures[i]
            height = (bottom - top) * float(figure.value) / maximum
            x = cx - slot * 0.35 + s * slot * 0.35
            chart.bars.append(
                Bar(
                    x,
                    bottom - height,
                    slot * 0.33,
                    height,
                    figure.key,
                    label(figure.key, lang),
                    formatted(figure, lang),
                    s,
                )
            )
    return chart


# ---------------------------------------------------------------------------------------------- the page


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    value: str
    events: int
    href: str
    sub: bool  # a breakdown of the row above ("of which")


@dataclass(frozen=True)
class SectionView:
    title: str
    rows: list[Row]
    chart: Chart | None = None


# The chart drawn under each section's table.
CHARTS = {"members": members_chart, "standards": stages_chart, "royalties": royalties_chart}


def sections_of(report: AnnualReport, lang: str, base: str) -> list[SectionView]:
    """Each section of the page: its table of figures, and its chart (the chart sections' figures are
    drawn, not tabled: each bar names its figure)."""
    out = []
    for section in SECTIONS:
        if section.endswith(("_by_month", "_by_stage", "_by_quarter")):
            continue
        rows = []
        for key, definition in FIGURES.items():
            if definition.section != section:
                continue
            figure = report.figures[key]
            text = label(key, lang, report.complete)
            sub = text.startswith(("of which", "其中"))
            rows.append(Row(key, text, formatted(figure, lang), figure.events, f"{base}/figures/{key}/events", sub))
        draw = CHARTS.get(section)
        out.append(SectionView(TEXTS[lang][f"section.{section}"], rows, draw(report, lang) if draw else None))
    return out


def render_page(report: AnnualReport, lang: str, base: str) -> str:
    """The whole page; ``base`` is the report's path (``/api/v1/integration/annual-reports/<year>``)."""
    t = TEXTS[lang]
    as_of = report.as_of.strftime("%Y-%m-%d %H:%M")
    context: dict[str, Any] = {
        "lang": lang,
        "other_lang": "zh" if lang == "en" else "en",
        "t": t,
        "report": report,
        "title": t["title"].format(year=report.year),
        "period": t["period"].format(year=report.year),
        "in_progress": None if report.complete else t["in_progress"].format(as_of=as_of),
        "source": t["source"].format(seq=report.archive_seq, as_of=as_of, base=base),
        "sections": sections_of(report, lang, base),
        "base": base,
        "commitments": COMMITMENTS,
    }
    return environment.get_template("annual_report.html").render(context)
