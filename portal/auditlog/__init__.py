"""The audit log (审计日志): everything that moves money or changes rules, kept forever.

Each entry says who (the user, or the system for a job), when, what (a kind such as
`claim.decided` or `settlement_run.released`), on what (a claim number, a run, a statement, a
master-data record) and the amounts or values before and after. The table is append-only: the
database refuses UPDATE and DELETE of its rows (a trigger on PostgreSQL and on SQLite).

This package sits below every domain package (they all write to it) and imports none of them.
"""
