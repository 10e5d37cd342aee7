"""The engine's hand-written SQL, one module per concern, each saying what it saves.

- `task_rows`: the task lists (Queue, Inbox, Done) and single tasks as plain rows for the API,
  one statement each (about 5 of 8 ms of CPU per list request at 1M tasks, bench/api_http.py).
- `locks`: the process lock's `SELECT … FOR UPDATE`, built once (about a tenth of a
  transition's CPU, bench/lifecycle.py).
- `case_numbers`: the year's case counter incremented and read back in one statement.
- `escalations`: the sweep's progress for a whole batch in one `UPDATE … FROM unnest(…)`.
- `tokens`: the staff token's user in one statement built once (about a quarter of a list
  request's CPU).

Elsewhere, by design: `cityops.compiled_queries` builds the ORM's own statements once (the
locked re-read, row writes and inserts of every transition), `cityops.sql_rows` converts
hand-read rows as the ORM would, and `departments.reference.GENERATION_SQL` is the
organisation's reference-data generation, read with the locked re-read
(services.transitions).
"""
