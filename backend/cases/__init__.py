"""The use cases that span a service request and its work order, one module per operation:
``reopen`` (reopen for work), ``close`` (close by staff), ``change_type`` (a new service and
a re-routed order), ``merge`` (a duplicate into its original), ``review`` (a supervisor's
verdict on a flagged completion) and ``feedback`` (the resident's "Was it fixed?", which
reopens on "not fixed").

Which to call: each module's plain entry point checks its input, locks the request row and
then its work order (``workorders.locks``) and leaves the two consistent; the edges (APIs,
console, admin, demo) call these. A ``do_*`` function does the same step under locks its
caller already holds, as its docstring says; it exists for the other use cases here.

This layer sits above both domains: it imports ``workorders`` and
``backend.service_requests``; neither of them imports it."""
