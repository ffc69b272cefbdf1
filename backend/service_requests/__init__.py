"""Service requests: the resident-visible record, its status state machine and its
append-only event history."""
