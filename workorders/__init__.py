"""Work orders: every service request becomes work for the responsible department.

Routing rules pick the department and team, teams of crews and supervisors do the work
through one state machine (with holds that pause the SLA clock), closing needs proof photos
checked from their EXIF data, a beat job escalates what is overdue, and residents hear of
every step and are asked whether it was fixed. The map: docs/architecture.md, "Work
orders"; the decisions: docs/adr/0007-0010."""
