"""Work orders: every service request becomes work for the responsible department.

Here now: the minimal WorkOrder the intake pipeline creates (department, request, status,
due time). To come (work-order issue): routing rules and areas, teams and crews, the full
lifecycle with holds, business-hours SLA clocks, proof-photo closing, escalation, resident
notifications and feedback, and the supervisor console."""
