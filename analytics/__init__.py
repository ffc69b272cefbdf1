"""Analytics: response times, backlogs, SLA on-time shares and CityScore-style scores computed
from the append-only history (docs/metrics.md); daily rollups kept fresh by a Celery beat job
(ADR 0014), the staff API and pages (charts, maps, live counters), the public open-data
export, the historical importers and the synthetic data generator."""
