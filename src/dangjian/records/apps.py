from __future__ import annotations

from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """Ledger types, records, attachments, fields and the one write service.

    The app label stays `ledgers` (the package was `dangjian.ledgers` before it was split into records, tasks,
    lists and spreadsheets): the label names the migration history (`ledgers.0001_initial` …), the tables
    (`ledgers_record`, `ledgers_historicalrecord` …), content types, permissions (`ledgers.change_record`) and the
    `ledgers` URL namespace, so an existing database migrates on without a rename. Never change it.
    The models of 填报任务 and 清单 (CollectionTask, TaskTarget, TaskEvent, Transition) are still here for the same
    reason; their rules live in `dangjian.tasks` and `dangjian.lists`.
    """

    name = "dangjian.records"
    label = "ledgers"
    verbose_name = "台账"
