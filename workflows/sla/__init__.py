"""Service levels: due times on working calendars, SLA state, escalation sweep."""
