"""Durable call records: a local SQLite journal every call write goes through, replayed into PostgreSQL.

A call must never wait on, or be lost to, the database. Each record a call produces (its `calls` row,
turns, readings, promises, tickets, callbacks, voice messages …) is appended to a local SQLite file in
WAL mode first (`local.LocalJournal`), then applied to PostgreSQL in order, exactly once, by the
`replay.Replayer` (each entry's key is stored in `journal_applied` in the same transaction as its
effect). While PostgreSQL answers, a write returns once it is applied, as before; while it does not,
a write returns as soon as it is on the local disk, and the replayer catches up when it is back.
"""
