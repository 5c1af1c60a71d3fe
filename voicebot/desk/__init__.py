"""The dispatcher's desk: work queues with their actions, and the live view of calls and deadlines.

Services used by the web UI (and open to the API): reads and audited changes over the database.
"""
