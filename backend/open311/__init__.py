"""Open311 GeoReport v2 server at ``/open311/v2/``: the standard API existing 311 clients
(city apps, FixMyStreet, open-data tools) speak. Thin views over the catalog selectors, the
request selectors of this package and the one intake pipeline; API keys per client carry the
channel their requests get. See docs/open311.md."""
