from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("service_requests", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS service_request_number_seq START 1",
            "DROP SEQUENCE IF EXISTS service_request_number_seq",
        )
    ]
