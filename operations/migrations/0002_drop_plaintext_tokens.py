"""Staff API tokens moved from DRF's authtoken (stored in plain text) to django-rest-knox
(stored hashed, with an expiry): the old table and its tokens are dropped; clients log in again
with POST /api/v1/auth/token/ as before."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("operations", "0001_initial")]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", migrations.RunSQL.noop),
    ]
