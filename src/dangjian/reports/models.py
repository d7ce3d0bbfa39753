"""Report templates (loaded from packs) and finalised report runs (定稿)."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from dangjian.orgs.models import Organization, OrgKind

PACKS_DIR = Path(__file__).resolve().parent.parent / "packs"


class ReportTemplate(models.Model):
    """A Jinja2 report template. Pack templates keep their file path so that `{% include %}` finds the chapter
    files beside them; the main file's text is kept here too (and shown in the admin)."""

    key = models.SlugField("模板代码", max_length=60, unique=True)
    label = models.CharField("名称", max_length=200)
    pack = models.CharField("来源数据包", max_length=60, blank=True)
    source = models.TextField(
        "模板内容", help_text="Jinja2 模板；指标用中文点分名称引用，如 {{ 理论学习.中心组集体学习次数 }}"
    )
    file_path = models.CharField(
        "模板文件", max_length=500, blank=True, help_text="数据包中的模板文件（相对数据包目录，或绝对路径）"
    )
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    org_kinds = models.JSONField(
        "适用组织类别", default=list, blank=True, help_text="组织类别代码；为空时适用于所有组织"
    )

    class Meta:
        ordering = ["pack", "key"]
        verbose_name = "报告模板"
        verbose_name_plural = "报告模板"

    def __str__(self) -> str:
        return self.label

    def path(self) -> Path | None:
        if not self.file_path:
            return None
        path = Path(self.file_path)
        return path if path.is_absolute() else PACKS_DIR / path

    def main_name(self) -> str:
        path = self.path()
        return path.name if path else f"{self.key}.j2"

    def clean(self) -> None:
        from .templating import TemplateRefused, validate

        try:
            validate(self)
        except TemplateRefused as exc:
            raise ValidationError({"source": str(exc)}) from None

    def edited_texts(self) -> dict[str, str]:
        """File name → text of the version in effect, for each file of this template edited in the web."""
        if self.pk is None:
            return {}
        latest: dict[str, str] = {}
        for name, text in self.file_versions.order_by("name", "-created_at", "-id").values_list(
            "name", "text"
        ):
            latest.setdefault(name, text)
        return latest

    def kind_labels(self) -> str:
        """The org kinds this template is for, in words (所有组织 when it names none)."""
        if not self.org_kinds:
            return "所有组织"
        labels = dict(OrgKind.objects.filter(code__in=self.org_kinds).values_list("code", "label"))
        return "、".join(labels.get(k, k) for k in self.org_kinds)

    def fits(self, org: Organization) -> bool:
        """Whether this template is meant for the org's kinds (a template naming no kinds fits every org)."""
        if not self.org_kinds:
            return True
        return any(k.code in self.org_kinds for k in org.kinds.all())


class TemplateFileVersion(models.Model):
    """One file of a template (its main file or a chapter it includes) as staff saved it in the web editor.

    Append-only: a save, a restore or adopting the built-in original adds a version; the latest one is in effect.
    `base` is the built-in (pack) text the version was based on: when the pack's file no longer matches it, the
    built-in original has changed since, and the editor says so."""

    template = models.ForeignKey(
        ReportTemplate, on_delete=models.CASCADE, related_name="file_versions", verbose_name="模板"
    )
    name = models.CharField("文件", max_length=200)
    text = models.TextField("内容")
    base = models.TextField("所依据的内置原文", blank=True)
    org = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="所属单位",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="保存人",
    )  # fmt: skip
    created_at = models.DateTimeField("保存时间", default=timezone.now)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["template", "name", "-created_at"])]
        verbose_name = "模板文件版本"
        verbose_name_plural = "模板文件版本"

    def __str__(self) -> str:
        return f"{self.template.key}/{self.name}（{self.created_at:%Y-%m-%d %H:%M}）"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise RunImmutable("模板版本不可修改，请保存为新版本")
        super().save(*args, **kwargs)


class RunImmutable(Exception):
    """A finalised run is never changed or deleted."""


class RunQuerySet(models.QuerySet):
    """Bulk updates and deletes would bypass the model's guard: refuse them too."""

    def update(self, **kwargs):  # type: ignore[override]
        raise RunImmutable("定稿报告不可修改")

    def delete(self):  # type: ignore[override]
        raise RunImmutable("定稿报告不可删除")


class ReportRun(models.Model):
    """A finalised report (定稿): text, every slot's value and evidence count, checks and the .docx, as they were.

    Immutable: `save()` refuses any change after creation and `delete()` refuses outright, so that what was
    signed off can always be shown and compared with today's data."""

    template = models.ForeignKey(
        ReportTemplate, on_delete=models.PROTECT, related_name="runs", verbose_name="模板"
    )
    template_label = models.CharField("模板名称", max_length=200)
    org = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="report_runs", verbose_name="组织"
    )
    period_start = models.DateField("期间开始")
    period_end = models.DateField("期间结束")
    period_label = models.CharField("期间", max_length=60, blank=True)
    created_at = models.DateTimeField("定稿时间", default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name="定稿人",
    )  # fmt: skip
    text = models.TextField("报告全文")
    marked = models.TextField("带标记的全文", help_text="内部使用：标出每个数字在全文中的位置")
    slots = models.JSONField(
        "数字与名称", default=list, help_text="按出现顺序：指标、名称、值、显示文字、佐证记录数、佐证链接"
    )
    values = models.JSONField("指标值", default=dict, help_text="模板用到的每个指标：名称、值、显示文字")
    checks = models.JSONField("核对结果", default=list)
    override_reason = models.TextField("未通过核对仍定稿的理由", blank=True)
    docx = models.BinaryField("Word 文件")

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "定稿报告"
        verbose_name_plural = "定稿报告"

    def __str__(self) -> str:
        return f"{self.org} · {self.template_label} · {self.period_label}（{self.created_at:%Y-%m-%d %H:%M}定稿）"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise RunImmutable("定稿报告不可修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[override]
        raise RunImmutable("定稿报告不可删除")

    @property
    def failed_checks(self) -> list[dict]:
        return [c for c in self.checks if not c.get("ok")]

    def filename(self, ext: str) -> str:
        stem = report_file_stem(self.org.display_name, self.period_label, self.template_label)
        return f"{stem}（定稿{self.pk}）.{ext}"


_LEADING_YEAR = re.compile(r"^\d{4}年度?")


def report_file_stem(org_name: str, period_label: str, template_label: str) -> str:
    """示范区 + 2019年度 + the template's label, said once: a label that begins with a year (2019年度区委常委会党建
    工作报告, made for the seed year) gives way to the period the report is for, so the name never reads
    示范区2019年2019年度… nor names 2019 for a 2020 report."""
    return f"{org_name}{period_label}{_LEADING_YEAR.sub('', template_label)}"
