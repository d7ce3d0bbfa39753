"""CollectionTask, TaskTarget and TaskEvent now belong to the tasks app (tasks.0001): removed from this app's state
only — their tables stay as they are and are now the tasks app's."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("ledgers", "0007_ledgertype_extensions"),
        ("tasks", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name="tasktarget",
                    name="task",
                ),
                migrations.RemoveField(
                    model_name="taskevent",
                    name="by",
                ),
                migrations.RemoveField(
                    model_name="taskevent",
                    name="target",
                ),
                migrations.AlterUniqueTogether(
                    name="tasktarget",
                    unique_together=None,
                ),
                migrations.RemoveField(
                    model_name="tasktarget",
                    name="org",
                ),
                migrations.RemoveField(
                    model_name="tasktarget",
                    name="submitted_by",
                ),
                migrations.DeleteModel(
                    name="CollectionTask",
                ),
                migrations.DeleteModel(
                    name="TaskEvent",
                ),
                migrations.DeleteModel(
                    name="TaskTarget",
                ),
            ],
            database_operations=[],
        ),
    ]
