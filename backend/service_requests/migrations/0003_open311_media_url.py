# Open311: the client-supplied media_url (stored, never fetched) and the full-text index behind
# the `q` extension. The index is built concurrently: on a large table a plain CREATE INDEX
# would block intake for the length of the build.

import django.contrib.postgres.indexes
import django.contrib.postgres.search
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("service_requests", "0002_public_id_sequence"),
    ]

    operations = [
        migrations.AddField(
            model_name="servicerequest",
            name="media_url",
            field=models.URLField(blank=True, editable=False, max_length=1000),
        ),
        AddIndexConcurrently(
            model_name="servicerequest",
            index=django.contrib.postgres.indexes.GinIndex(
                django.contrib.postgres.search.SearchVector(
                    "description", "address", config="simple"
                ),
                name="sr_search",
            ),
        ),
    ]
