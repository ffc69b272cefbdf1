"""The service catalog: departments and the service types residents can report."""
