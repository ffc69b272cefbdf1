"""analytics_try_timestamptz: the importer's careful reading of a time (analytics.importing).
NULL when the text is no time (a cast would fail the whole statement); ``format`` is a
to_timestamp pattern, or '' for PostgreSQL's own input syntax (ISO 8601). Local times are
the session's TimeZone, which the importer sets to the file's."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION analytics_try_timestamptz(value text, format text)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF value IS NULL OR value = '' THEN
    RETURN NULL;
  END IF;
  IF format = '' THEN
    RETURN value::timestamptz;
  END IF;
  RETURN to_timestamp(value, format);
EXCEPTION WHEN data_exception THEN
  RETURN NULL;
END $$"""

DROP = "DROP FUNCTION IF EXISTS analytics_try_timestamptz(text, text)"


class Migration(migrations.Migration):
    dependencies = [("analytics", "0002_service_rollup")]

    operations = [migrations.RunSQL(CREATE, DROP)]
