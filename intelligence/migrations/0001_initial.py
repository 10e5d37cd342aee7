# The app's first migration: an anchor for the parallel branches that add its tables.
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = []
