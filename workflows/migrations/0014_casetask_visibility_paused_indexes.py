"""Case search, indexes on tasks (issue 10's benchmark goal).

- (unit, role, case) replaces the plain index on `unit`: the cases of a user's (unit, role)
  pairs are read from the index alone when the access rule lists them by id
  (workflows.access.case_search_visibility_q); it still leads with `unit` for the foreign key.
- A partial index of the paused open handling tasks, by case: the "clock stopped" filter looks
  up the few paused cases instead of checking every open case's tasks.

Plain Django indexes: the same on PostgreSQL and SQLite.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('departments', '0004_hotline_agent_role'),
        ('viewflow', '0015_task_scheduled'),
        ('workflows', '0013_case_due_sort'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='casetask',
            index=models.Index(fields=['unit', 'role', 'case'], name='casetask_unit_role_case'),
        ),
        migrations.AddIndex(
            model_name='casetask',
            index=models.Index(condition=models.Q(('paused_since__isnull', False), ('stage', 'handling'), ('status__in', ['open', 'claimed'])), fields=['case'], name='casetask_paused'),
        ),
        migrations.AlterField(
            model_name='casetask',
            name='unit',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='departments.unit', verbose_name='unit'),
        ),
    ]
