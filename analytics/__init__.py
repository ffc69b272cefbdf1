"""Analytics (to come, analytics issue): response times, backlogs, SLA on-time shares and
CityScore-style scores from the append-only event history; daily rollups, the staff
dashboards and maps, the public open-data export and the historical importers."""
