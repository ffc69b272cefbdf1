"""analytics_try_float8: the importer's careful reading of a number (analytics.importing):
NULL when the text is no number, where a cast would fail the whole statement."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION analytics_try_float8(value text)
RETURNS double precision LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF value IS NULL OR value = '' OR translate(value, '0123456789.-+eE', '') <> '' THEN
    RETURN NULL;
  END IF;
  RETURN value::double precision;
EXCEPTION WHEN data_exception THEN
  RETURN NULL;
END $$"""

DROP = "DROP FUNCTION IF EXISTS analytics_try_float8(text)"


class Migration(migrations.Migration):
    dependencies = [("analytics", "0003_import_timestamp")]

    operations = [migrations.RunSQL(CREATE, DROP)]
