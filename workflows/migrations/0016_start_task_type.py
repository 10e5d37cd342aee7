"""The start task of every flow has the type viewflow's Task.save() gives it ("START").

From 474e517 to this fix, flows.nodes.Begin inserted the start task with a compiled INSERT,
which does not call Task.save(), where viewflow fills `flow_task_type` in: those rows were
written with an empty type. Every flow starts with a Begin node, and every other task row is
written with its type (flows.nodes.new_task), so an empty type is such a start task.
"""

from django.db import migrations

FILL = "UPDATE viewflow_task SET flow_task_type = 'START' WHERE flow_task_type = ''"


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0015_case_number_c_index"),
        ("viewflow", "0015_task_scheduled"),
    ]

    operations = [
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop),
    ]
