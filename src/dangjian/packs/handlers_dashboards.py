"""Section handler for 驾驶舱 (the overview's key indicators): `[[dashboards]] key, label, cockpit, ranking`.

    [[dashboards]]
    key = "seed2019"
    label = "区委党建工作驾驶舱"
    cockpit = ["理论学习.中心组集体学习次数", …]   # shown this period against the last, each value to its evidence
    ranking = ["宣讲.基层理论宣讲场次", …]        # units (the district's direct children) may be ranked by these

Every key must be an indicator already loaded (indicators load at order 30–40, dashboards after them). Owned by one
pack like every other definition; the overview page shows the dashboards of all packs in `order`.
"""

from __future__ import annotations

from typing import Any

from .handlers import owned_elsewhere
from .loader import Pack, PackError, section

DASHBOARD_KEYS = {"key", "label", "cockpit", "ranking", "order"}
REQUIRED_KEYS = ("key", "label")


def _keys(item: dict[str, Any], name: str, pack: Pack, known: set[str]) -> list[str]:
    keys = item.get(name, [])
    where = f"数据包 {pack.name} 驾驶舱 {item['key']} 的 {name}"
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise PackError(f'{where} 应写成指标代码的列表，如 ["理论学习.中心组集体学习次数"]')
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise PackError(f"{where} 含有不存在的指标：{'、'.join(unknown)}")
    return list(dict.fromkeys(keys))


@section("dashboards", order=60)
def load_dashboards(items: list[dict[str, Any]], pack: Pack) -> int:
    from dangjian.indicators.models import Indicator
    from dangjian.web.models import Dashboard

    known = set(Indicator.objects.values_list("key", flat=True))
    for i, item in enumerate(items):
        extra = set(item) - DASHBOARD_KEYS
        if extra:
            raise PackError(
                f"数据包 {pack.name} 驾驶舱 {item.get('key')} 含有未知属性：{'、'.join(sorted(extra))}"
            )
        missing = [k for k in REQUIRED_KEYS if k not in item]
        if missing:
            raise PackError(f"数据包 {pack.name} 的第 {i + 1} 个驾驶舱缺少：{'、'.join(missing)}")
        owner = Dashboard.objects.filter(key=item["key"]).values_list("pack", flat=True).first()
        if owner is not None and owner != pack.name:
            raise PackError(owned_elsewhere("驾驶舱", item["key"], owner, pack))
        Dashboard.objects.update_or_create(
            key=item["key"],
            defaults={
                "label": item["label"],
                "pack": pack.name,
                "order": item.get("order", pack.order * 100 + i),
                "cockpit": _keys(item, "cockpit", pack, known),
                "ranking": _keys(item, "ranking", pack, known),
            },
        )
    return len(items)
