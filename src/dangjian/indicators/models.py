"""Indicators and checks, defined as data (pack files or admin pages), never as code."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from dangjian.orgs.models import Organization, Role
from dangjian.records.models import LedgerType


class Kind(models.TextChoices):
    AGGREGATE = "aggregate", "台账汇总"
    FORMULA = "formula", "公式"
    ATTRIBUTE = "attribute", "组织或期间属性"
    PARAMETER = "parameter", "报告参数"  # the value is entered by hand: see Parameter below


class Aggregate(models.TextChoices):
    COUNT = "count", "计数"
    COUNT_DISTINCT = "count_distinct", "不重复计数"
    SUM = "sum", "求和"
    AVG = "avg", "平均值"
    MIN = "min", "最小值"
    MAX = "max", "最大值"
    AVG_AGE = "avg_age", "平均年龄"
    SHARE = "share", "占比（%）"
    LIST = "list", "取值列表"
    COUNT_UNITS = "count_units", "单位数（有符合条件记录的单位）"
    COUNT_PEOPLE = "count_people", "跨台账人数（不重复的人）"
    RATIO = "ratio", "两项之比"


class Scope(models.TextChoices):
    SUBTREE = "subtree", "报告单位及其下级"
    SELF = "self", "仅报告单位本身"


class PeriodMode(models.TextChoices):
    WITHIN = "within", "期内"
    CUMULATIVE = "cumulative", "截至期末累计"
    START = "start", "期初状态"
    END = "end", "期末状态"


class Indicator(models.Model):
    """A named figure: a ledger aggregate, a formula over other indicators, or an org/period attribute."""

    key = models.CharField(
        "指标键",
        max_length=120,
        unique=True,
        help_text="中文点分名称，模板中直接引用，如 理论学习.中心组集体学习次数",
    )
    label = models.CharField("名称", max_length=200)
    unit = models.CharField("单位", max_length=20, blank=True)
    pack = models.CharField("来源数据包", max_length=60, blank=True)
    kind = models.CharField("定义方式", max_length=20, choices=Kind.choices, default=Kind.AGGREGATE)
    ledger = models.ForeignKey(
        LedgerType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name="台账",
    )
    aggregate = models.CharField("汇总方式", max_length=20, choices=Aggregate.choices, blank=True)
    field = models.CharField(
        "字段", max_length=60, blank=True, help_text="不重复计数、求和、平均、列表等所用字段的代码"
    )
    where = models.JSONField(
        "筛选条件",
        default=list,
        blank=True,
        help_text='全部满足，如 [{"field": "kind", "op": "=", "value": "中心组集体学习"}]',
    )
    status = models.JSONField("记录状态", default=list, blank=True, help_text='可选，如 ["已销号"]')
    org_kinds = models.JSONField("填报单位类别", default=list, blank=True, help_text='可选，如 ["community"]')
    scope = models.CharField("范围", max_length=10, choices=Scope.choices, default=Scope.SUBTREE)
    period = models.CharField(
        "期间口径", max_length=12, choices=PeriodMode.choices, default=PeriodMode.WITHIN
    )
    options = models.JSONField(
        "其他选项",
        default=dict,
        blank=True,
        help_text="share_where（占比条件）、age_at（start/end）、order（count/first/value）、limit、decimals",
    )
    formula = models.TextField("公式", blank=True, help_text="如 纪律审查.党纪处分 + 纪律审查.政务处分")
    attribute = models.CharField(
        "属性", max_length=40, blank=True, help_text="如 org.short_name、period.year"
    )
    description = models.TextField("说明", blank=True)

    class Meta:
        ordering = ["key"]
        verbose_name = "指标"
        verbose_name_plural = "指标"

    def __str__(self) -> str:
        return f"{self.key}（{self.label}）"

    def clean(self) -> None:
        """The same validation as pack loading: fields exist, operators and values fit, formulas name known
        indicators and make no cycle."""
        from . import formulas
        from .compiler import definition_errors

        others = Indicator.objects.exclude(pk=self.pk) if self.pk else Indicator.objects.all()
        catalogue = {i.key: i for i in others}
        catalogue[self.key] = self
        errors = definition_errors(self, known_keys=set(catalogue))
        errors += [e for e in formulas.key_conflicts(catalogue) if f"“{self.key}”" in e]
        if not errors and self.kind == Kind.FORMULA:
            try:
                formulas.order(
                    {
                        i.key: [
                            formulas.split(n)[1]
                            for n in formulas.parse(i.formula)[1]
                            if not formulas.split(n)[0]
                        ]
                        for i in catalogue.values()
                        if i.kind == Kind.FORMULA
                    }
                )
            except formulas.FormulaError as exc:
                errors.append(str(exc))
        if errors:
            raise ValidationError("；".join(errors))


class Level(models.TextChoices):
    ERROR = "error", "错误"
    WARNING = "warning", "警告"


class Check(models.Model):
    """A consistency rule over indicators; a failed error-level rule blocks 定稿 unless overridden."""

    code = models.SlugField("代码", max_length=60, unique=True)
    label = models.CharField("名称", max_length=200)
    rule = models.TextField(
        "规则", help_text="布尔表达式，如 纪律审查.处分合计 == 纪律审查.党纪处分 + 纪律审查.政务处分"
    )
    level = models.CharField("级别", max_length=10, choices=Level.choices, default=Level.ERROR)
    message = models.CharField("说明", max_length=300, help_text="不通过时显示的中文说明")
    pack = models.CharField("来源数据包", max_length=60, blank=True)
    order = models.IntegerField("排序", default=0)

    class Meta:
        ordering = ["pack", "order", "code"]
        verbose_name = "核对规则"
        verbose_name_plural = "核对规则"

    def __str__(self) -> str:
        return self.label

    def clean(self) -> None:
        from .formulas import rule_errors

        errors = rule_errors(self.rule, known=set(Indicator.objects.values_list("key", flat=True)))
        if errors:
            raise ValidationError({"rule": "；".join(errors)})


# --- indicator builder: staff's web versions of definitions (内置原文, 当前版本, 历史版本) -----------------------


class DefinitionVersion(models.Model):
    """One version of an indicator's (or a check's) definition, append-only.

    A web version (source "web") is a definition staff saved in the builder, owned by their org; while a key has
    one, the Indicator row holds the latest web version and pack loading never overwrites it. A built-in version
    (source "builtin") is the definition a pack gave when it was loaded while staff held a version: the 内置原文
    the page compares with, and offers to adopt. `definition` and `base` are pack TOML tables as dicts
    (indicators.versions.to_item); `base` is the built-in original a web version was made from ({} when none)."""

    class Source(models.TextChoices):
        WEB = "web", "网页修改"
        BUILTIN = "builtin", "内置原文"

    kind = models.CharField("类别", max_length=20, default="indicator")
    key = models.CharField("键", max_length=120, db_index=True)
    source = models.CharField("来源", max_length=10, choices=Source.choices)
    pack = models.CharField("数据包", max_length=60, blank=True)
    definition = models.JSONField("定义", default=dict)
    base = models.JSONField("所依据的内置原文", default=dict, blank=True)
    org = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="所属单位",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="修改人",
    )
    created_at = models.DateTimeField("时间", default=timezone.now)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        ordering = ["kind", "key", "created_at", "pk"]
        verbose_name = "定义版本"
        verbose_name_plural = "定义版本"

    def __str__(self) -> str:
        return f"{self.key}（{self.get_source_display()}，{self.created_at:%Y-%m-%d %H:%M}）"


# --- 报告参数 (report parameters) ---------------------------------------------------------------------------------


class ParameterType(models.TextChoices):
    INTEGER = "integer", "整数"
    DECIMAL = "decimal", "小数"
    TEXT = "text", "文本"
    DATE = "date", "日期"


class ParameterTotal(models.TextChoices):
    SELF = "self", "报告单位本身填报的值"
    SUM = "sum", "报告单位及其下级填报值的合计"


class Parameter(models.Model):
    """A figure from outside the ledgers (学习强国 back-office figures, a provincial notice, a one-off count),
    entered by hand once per org and period with its source (`ParameterValue`).

    Its key, label, unit, description and owning pack are those of its indicator (kind 报告参数): one catalogue
    of names for templates, formulas and checks, so a parameter key can never clash with an indicator key.
    """

    indicator = models.OneToOneField(
        Indicator, on_delete=models.PROTECT, related_name="parameter", verbose_name="指标"
    )
    type = models.CharField(
        "类型", max_length=10, choices=ParameterType.choices, default=ParameterType.INTEGER
    )
    max_digits = models.PositiveSmallIntegerField("整数位数上限", default=12)
    decimals = models.PositiveSmallIntegerField("小数位数上限", default=2)
    max_length = models.PositiveSmallIntegerField("文本长度上限", default=200)
    role = models.CharField(
        "填报角色",
        max_length=20,
        choices=[(r.value, r.label) for r in (Role.CLERK, Role.REVIEWER, Role.ADMIN)],
        default=Role.CLERK,
        help_text="该角色及更高角色（填报员 < 审核员 < 管理员）可以填报",
    )
    total = models.CharField(
        "取值方式", max_length=10, choices=ParameterTotal.choices, default=ParameterTotal.SELF
    )
    owner_org = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="定义单位",
        help_text="在网页中定义的参数属于该单位；数据包中定义的为空",
    )
    tasks = models.ManyToManyField(
        "tasks.CollectionTask", blank=True, related_name="parameters", verbose_name="填报任务"
    )

    class Meta:
        ordering = ["indicator__key"]
        verbose_name = "报告参数"
        verbose_name_plural = "报告参数"

    def __str__(self) -> str:
        return str(self.indicator)

    @property
    def key(self) -> str:
        return self.indicator.key

    @property
    def label(self) -> str:
        return self.indicator.label

    @property
    def unit(self) -> str:
        return self.indicator.unit

    @property
    def pack(self) -> str:
        return self.indicator.pack

    @property
    def bounds_text(self) -> str:
        """The limits of a value, in words, for forms and the list."""
        if self.type == ParameterType.INTEGER:
            return f"整数，最多 {self.max_digits} 位"
        if self.type == ParameterType.DECIMAL:
            return f"数字，整数部分最多 {self.max_digits} 位，小数最多 {self.decimals} 位"
        if self.type == ParameterType.TEXT:
            return f"文本，最多 {self.max_length} 字"
        return "日期，如 2019-12-31"


def parameter_file_path(instance: ParameterValue, filename: str) -> str:
    from pathlib import Path

    now = timezone.now()
    return f"parameters/{now:%Y/%m}/{instance.parameter_id}-{now:%H%M%S%f}{Path(filename).suffix.lower()}"


class ParameterValue(models.Model):
    """One entry of a parameter for (org, period), with its source. Entries are never changed: a new entry for the
    same (parameter, org, period) becomes the current one and the older stays as history (`is_current=False`)."""

    parameter = models.ForeignKey(Parameter, on_delete=models.CASCADE, related_name="values")
    org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name="填报单位")
    period_start = models.DateField("统计期起")
    period_end = models.DateField("统计期止")
    # the canonical text of the typed value (see parameters.py)
    value = models.CharField("数值", max_length=500)
    source = models.CharField("来源说明", max_length=300)
    file = models.FileField("佐证材料", upload_to=parameter_file_path, blank=True)
    file_name = models.CharField("文件名", max_length=200, blank=True)
    file_size = models.PositiveIntegerField("大小", default=0)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    entered_at = models.DateTimeField("填报时间", default=timezone.now)
    task = models.ForeignKey(
        "tasks.CollectionTask",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="填报任务",
    )
    is_current = models.BooleanField("当前值", default=True)

    class Meta:
        ordering = ["-entered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parameter", "org", "period_start", "period_end"],
                condition=models.Q(is_current=True),
                name="parameter_value_current",
            )
        ]
        verbose_name = "报告参数填报值"
        verbose_name_plural = "报告参数填报值"

    def __str__(self) -> str:
        return f"{self.parameter.key} · {self.org} · {self.value}"
