"""The one role table: which role may call each API operation, and which UI areas follow from it.

The API (`voicebot/api/access.py`) checks every /api/v1 route by its name against ACCESS; the web UI
checks every page by its area, and an area's roles are the roles of the API operation that shows the same
data (UI_AREA_OPERATION) — so no role sees more through the UI than through the API. Admin may do
everything; a name missing from the table is admin-only (fail closed).
"""

from __future__ import annotations

STAFF = frozenset({"staff"})
OPS = frozenset({"ops"})
SUPERVISOR = frozenset({"supervisor"})
RESULTS = frozenset({"staff", "supervisor"})
EVERYONE = frozenset({"admin", "staff", "ops", "supervisor"})
ADMIN_ONLY: frozenset[str] = frozenset()
DISPATCH = frozenset({"staff", "ops"})
TRY = frozenset({"staff", "ops", "supervisor"})

# route name → roles allowed besides admin (admin may call everything)
ACCESS: dict[str, frozenset[str]] = {
    "whoami": EVERYONE,
    # campaigns and their results: staff
    "create_campaign": STAFF,
    "upload_campaign_csv": STAFF,
    "list_campaigns": STAFF,
    "get_campaign": STAFF,
    "start_campaign": STAFF,
    "pause_campaign": STAFF,
    "resume_campaign": STAFF,
    "cancel_campaign": STAFF,
    "campaign_progress": STAFF,
    "campaign_results": STAFF,
    "campaign_results_page": STAFF,
    # what calls wrote: staff works with it, supervisors review it
    "list_readings": RESULTS,
    "list_promises": RESULTS,
    "list_tickets": RESULTS,
    "get_ticket": RESULTS,
    "change_ticket_status": RESULTS,
    "list_nps_answers": RESULTS,
    "list_visits": RESULTS,
    "list_voice_messages": RESULTS,
    "list_callbacks": RESULTS,
    # calls, recordings, transcripts: supervisors
    "list_calls": SUPERVISOR,
    "get_call": SUPERVISOR,
    "get_recording": SUPERVISOR,
    "head_recording": SUPERVISOR,
    "get_transcript": SUPERVISOR,
    # analytics: ops
    "analytics_summary": OPS,
    "analytics_timeseries": OPS,
    # trying scenarios over the text channel: a sandbox that writes nothing; roles without resident data
    # talk to a synthetic resident (dialogue/sandbox.py)
    "create_simulation": TRY,
    "simulation_turn": TRY,
    "delete_simulation": TRY,
    # outages and house chats: dispatchers (staff, ops) declare them; admins map the chats
    "declare_outage": DISPATCH,
    "list_outages": DISPATCH,
    "get_outage": DISPATCH,
    "change_outage": DISPATCH,
    "end_outage": DISPATCH,
    "list_house_chats": DISPATCH,
    "add_house_chat": ADMIN_ONLY,
    "delete_house_chat": ADMIN_ONLY,
    "get_company_card": EVERYONE,
    "start_max_conversation": STAFF,
    # the service centre's schedule and appointments: front-office staff
    "office_day": DISPATCH,
    "add_office_slots": DISPATCH,
    "import_office_slots": DISPATCH,
    "close_office_slot": DISPATCH,
    "book_office_appointment": DISPATCH,
    "change_office_appointment": DISPATCH,
    "put_company_card": ADMIN_ONLY,
    # integration plumbing
    "list_webhook_events": ADMIN_ONLY,
    "retry_webhook_event": ADMIN_ONLY,
    "list_sms": ADMIN_ONLY,
}


def allowed(route_name: str, role: str) -> bool:
    return role == "admin" or role in ACCESS.get(route_name, ADMIN_ONLY)


# UI area → the API operation whose data the area shows (its roles are that operation's roles)
UI_AREA_OPERATION: dict[str, str] = {
    "dashboard": "analytics_summary",  # aggregates only
    "calls": "list_calls",  # call list, call pages, transcripts, exports
    "listen": "get_recording",  # recordings and call review
    "campaigns": "list_campaigns",  # campaigns, their results and exports
    "queues": "list_callbacks",  # tickets, voice messages, callbacks, the live view: resident data
    "operator": "list_callbacks",  # call cards of callers handed to an operator: resident data
    "try": "create_simulation",  # «Проверить бота»: the sandbox
    "outages": "declare_outage",
    "house_chats": "list_house_chats",
    "house_chats_edit": "add_house_chat",
    "office": "office_day",
    "company": "put_company_card",
    "admin": "list_webhook_events",  # keys, audit log, outboxes
}
UI_AREAS: dict[str, frozenset[str]] = {area: ACCESS[op] for area, op in UI_AREA_OPERATION.items()}


def ui_allowed(area: str, role: str) -> bool:
    return role == "admin" or role in UI_AREAS.get(area, ADMIN_ONLY)
