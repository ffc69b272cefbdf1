# Areas get a stable slug for URLs (alerts and feeds: ?area=<slug>). Existing areas get one
# made from their name, as workorders.areas.area_slug_make does for new ones.

from django.db import migrations, models
from django.utils.text import slugify


def slugs_fill(apps, schema_editor):
    Area = apps.get_model("workorders", "Area")
    taken: set[str] = set()
    for area in Area.objects.order_by("pk"):
        base = slugify(area.name)[:200] or "area"
        slug = next(
            (c for c in (base, f"{slugify(area.kind)[:32]}-{base}") if c not in taken), None
        )
        number = 2
        while slug is None:
            if f"{base}-{number}" not in taken:
                slug = f"{base}-{number}"
            number += 1
        taken.add(slug)
        area.slug = slug
        area.save(update_fields=["slug"])


class Migration(migrations.Migration):

    dependencies = [
        ("workorders", "0003_escalation_hot_updates"),
    ]

    operations = [
        migrations.AddField(
            model_name="area",
            name="slug",
            field=models.SlugField(max_length=240, null=True, db_index=False),
        ),
        migrations.RunPython(slugs_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="area",
            name="slug",
            field=models.SlugField(max_length=240, unique=True),
        ),
    ]
