"""Case search, "Due soonest" (issue 10's benchmark goal): the sort key as a stored column.

`due_sort` is the due time, or 9000-01-01 for cases without one (they sort last), generated
by the database (a GeneratedField: PostgreSQL and SQLite both compute it on every write). The
sort and its keyset cursor read the column, and two indexes serve them: every visible case by
(due_sort, id), and the cases in one status (the open ones) by (status, due_sort, id). An
expression index on COALESCE(due_at, <constant>) would not do: with server-side binding the
query passes the constant as a parameter, and PostgreSQL then does not match the index.
"""

import datetime
import django.db.models.functions.comparison
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('departments', '0004_hotline_agent_role'),
        ('viewflow', '0015_task_scheduled'),
        ('workflows', '0012_hotline_from_case'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='due_sort',
            field=models.GeneratedField(db_persist=True, expression=django.db.models.functions.comparison.Coalesce('due_at', models.Value(datetime.datetime(9000, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), output_field=models.DateTimeField())), output_field=models.DateTimeField(), verbose_name='due (sort key)'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['due_sort', 'id'], name='case_due_sort'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(fields=['status', 'due_sort', 'id'], name='case_status_due_sort'),
        ),
    ]
