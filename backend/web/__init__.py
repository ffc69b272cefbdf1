"""The residents' web pages: report a problem, track a request. Server-rendered Django
templates that work without JavaScript; ``static/web/*.js`` enhances them (map pin, the
chosen service's questions, "use my location", nearby duplicates, live updates)."""
