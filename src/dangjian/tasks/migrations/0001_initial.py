"""The 填报任务 models, moved here from the ledgers app label (ledgers.0002 made their tables): created in this app's
state only — the tables `ledgers_collectiontask`, `ledgers_tasktarget`, `ledgers_taskevent` and the two many-to-many
tables keep their names (`Meta.db_table`) and rows. Their content types move with them, so permissions and the admin's
action log keep pointing at them."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MOVED = ("collectiontask", "tasktarget", "taskevent")


def move_content_types(apps, schema_editor, source="ledgers", target="tasks"):
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.using(schema_editor.connection.alias)
    for model in MOVED:
        if not rows.filter(app_label=target, model=model).exists():
            rows.filter(app_label=source, model=model).update(app_label=target)


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="tasks", target="ledgers")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ('ledgers', '0006_fewer_indexes'),
        ('orgs', '0002_duties_and_approvals'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CollectionTask',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('title', models.CharField(max_length=120, verbose_name='任务名称')),
                        ('period_start', models.DateField(verbose_name='统计期起')),
                        ('period_end', models.DateField(verbose_name='统计期止')),
                        ('deadline', models.DateField(verbose_name='截止日期')),
                        ('instructions', models.TextField(blank=True, verbose_name='填报说明')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='创建时间')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('creator_org', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='created_tasks', to='orgs.organization', verbose_name='发起单位')),
                        ('ledger_types', models.ManyToManyField(related_name='collection_tasks', to='ledgers.ledgertype', verbose_name='台账')),
                        ('scope_root', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='scoped_tasks', to='orgs.organization', verbose_name='填报范围')),
                        ('target_kinds', models.ManyToManyField(blank=True, related_name='collection_tasks', to='orgs.orgkind', verbose_name='单位类别')),
                    ],
                    options={
                        'verbose_name': '填报任务',
                        'verbose_name_plural': '填报任务',
                        'db_table': 'ledgers_collectiontask',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='TaskTarget',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('pending', '未填报'), ('draft', '暂存'), ('submitted', '已报送'), ('returned', '已退回')], db_index=True, default='pending', max_length=20, verbose_name='状态')),
                        ('submitted_at', models.DateTimeField(blank=True, null=True, verbose_name='报送时间')),
                        ('return_reason', models.TextField(blank=True, verbose_name='退回原因')),
                        ('org', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='task_targets', to='orgs.organization', verbose_name='填报单位')),
                        ('submitted_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('task', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='targets', to='tasks.collectiontask')),
                    ],
                    options={
                        'verbose_name': '任务填报单位',
                        'verbose_name_plural': '任务填报单位',
                        'db_table': 'ledgers_tasktarget',
                        'ordering': ['task', 'org__path'],
                        'unique_together': {('task', 'org')},
                    },
                ),
                migrations.CreateModel(
                    name='TaskEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('from_status', models.CharField(blank=True, choices=[('pending', '未填报'), ('draft', '暂存'), ('submitted', '已报送'), ('returned', '已退回')], max_length=20, verbose_name='原状态')),
                        ('to_status', models.CharField(choices=[('pending', '未填报'), ('draft', '暂存'), ('submitted', '已报送'), ('returned', '已退回')], max_length=20, verbose_name='新状态')),
                        ('reason', models.TextField(blank=True, verbose_name='原因')),
                        ('at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='时间')),
                        ('by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('target', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='tasks.tasktarget')),
                    ],
                    options={
                        'verbose_name': '任务状态变更',
                        'verbose_name_plural': '任务状态变更',
                        'db_table': 'ledgers_taskevent',
                        'ordering': ['at', 'id'],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
