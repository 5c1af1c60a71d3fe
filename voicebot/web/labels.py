"""Russian names of the codes the UI shows (outcomes, scenarios, statuses, roles); unknown codes show as is."""

from __future__ import annotations

SCENARIOS = {
    "meter_readings": "Показания счётчиков",
    "request_intake": "Приём заявок",
    "inbound_router": "Входящая линия",
    "debt_reminder": "Напоминание о долге",
    "nps_survey": "Опрос NPS",
    "visit_warning": "Предупреждение о визите",
    "announcement": "Оповещение",
    "company_card": "Справка о компании",
    "messenger": "Мессенджер MAX",
    "office_appointment": "Запись на приём в офис",
}

OUTCOMES = {
    "readings_accepted": "Показания приняты",
    "readings_partial": "Показания частично",
    "not_identified": "Не опознан",
    "transferred": "Переведён на оператора",
    "hangup": "Положил трубку",
    "promise_to_pay": "Обещание оплатить",
    "already_paid": "Уже оплачено",
    "owner_changed": "Сменился собственник",
    "wrong_number": "Ошибочный номер",
    "callback_requested": "Просил перезвонить",
    "refused": "Отказ",
    "nps_collected": "Оценка получена",
    "ticket_reopened": "Заявка переоткрыта",
    "visit_confirmed": "Визит подтверждён",
    "visit_rescheduled": "Визит перенесён",
    "visit_declined": "Визит отклонён",
    "ticket_created": "Заявка создана",
    "ticket_status_given": "Сообщён статус заявки",
    "voice_message": "Голосовое сообщение",
    "announcement_heard": "Оповещение прослушано",
    "announcement_partial": "Оповещение частично",
    "overflow": "Перегрузка линии",
    "missed": "Пропущен",
    "unfinished": "Не завершён",
    "info_given": "Справка дана",
    "appointment_booked": "Записан на приём",
    "appointment_rescheduled": "Запись перенесена",
    "appointment_cancelled": "Запись отменена",
    "appointment_confirmed": "Запись подтверждена",
    "appointment_kept": "Запись оставлена",
    "no_slots": "Нет свободного времени",
}

DIRECTIONS = {"inbound": "Входящие", "outbound": "Исходящие"}
CHANNELS = {
    "voice": "Телефон",
    "text": "Текст",
    "web": "Браузер",
    "messenger": "Мессенджер MAX",
    "max": "MAX",
}
ROLES = {"admin": "администратор", "staff": "сотрудник", "ops": "диспетчер", "supervisor": "супервизор"}
SPEAKERS = {"bot": "Бот", "caller": "Абонент"}

CAMPAIGN_STATUSES = {
    "draft": "Черновик",
    "running": "Идёт",
    "paused": "Пауза",
    "cancelled": "Отменена",
    "finished": "Завершена",
}
CONTACT_STATES = {
    "pending": "В очереди",
    "in_progress": "Звоним",
    "done": "Готово",
    "failed": "Не дозвонились",
    "cancelled": "Отменено",
    "blocked": "Запрет звонков",
}
TICKET_STATUSES = {"new": "Новая", "in_progress": "В работе", "done": "Выполнена", "cancelled": "Отменена"}
PRIORITIES = {"emergency": "Аварийная", "routine": "Плановая"}
CALLBACK_STATUSES = {
    "pending": "Ожидает",
    "in_progress": "Звоним",
    "done": "Выполнен",
    "failed": "Не удалось",
    "cancelled": "Отменён",
}
CALLBACK_REASONS = {
    "missed": "Пропущенный",
    "abandoned": "Брошенный",
    "overflow": "Перегрузка",
    "requested": "По просьбе",
    "voice_message": "Голосовое сообщение",
}
ANSWER_BUCKETS = {
    "le_10s": "≤ 10 с",
    "le_30s": "≤ 30 с",
    "le_1m": "≤ 1 мин",
    "le_5m": "≤ 5 мин",
    "le_10m": "≤ 10 мин",
    "gt_10m": "> 10 мин",
    "unanswered": "Без ответа",
}
ACTIONS = {"start": "Запустить", "pause": "Пауза", "resume": "Продолжить", "cancel": "Отменить"}
# what one dialling of a campaign contact came to (the dialer's `last_result`)
ATTEMPT_RESULTS = {
    "dialing": "Набираем",
    "answered": "Ответил",
    "busy": "Занято",
    "no_answer": "Не ответил",
    "congestion": "Сеть перегружена",
    "failed": "Ошибка вызова",
    "unknown": "АТС не ответила",
    "not_placed": "Не набран (АТС недоступна)",
    "no_dialogue": "Ответ без разговора",
}
# how a person closed a callback from the queue
CALLBACK_RESULTS = {
    **ATTEMPT_RESULTS,
    "resolved": "Дозвонились, вопрос решён",
    "unreachable": "Не дозвонились",
    "not_needed": "Перезвон не нужен",
}
# what the language model heard the caller mean
INTENTS = {
    "affirm": "согласие", "deny": "отказ, «нет»", "already_paid": "уже оплатил", "are_you_robot": "«вы робот?»",
    "ask_status": "статус заявки", "callback_later": "перезвонить позже", "dont_know": "«не знаю»",
    "goodbye": "прощание", "greet": "приветствие", "inform": "сообщает данные", "leave_message": "оставить сообщение",
    "operator": "просит оператора", "owner_changed": "сменился собственник", "promise_to_pay": "обещает оплатить",
    "refuse": "отказ", "repeat": "просит повторить", "report_problem": "сообщает о проблеме",
    "reschedule": "перенести", "someone_else_home": "дома кто-то другой", "submit_readings": "передать показания",
    "thanks": "благодарит", "wait": "просит подождать", "wrong_number": "ошибся номером", "nlu_fallback": "не понято",
}  # fmt: skip
CALL_STATUSES = {"active": "Идёт", "ended": "Завершён"}
RESOURCES = {
    "cold_water": "Холодная вода", "hot_water": "Горячая вода", "electricity": "Электричество",
    "electricity_t1": "Электричество (день)", "electricity_t2": "Электричество (ночь)",
    "electricity_t3": "Электричество (пик)", "gas": "Газ", "heat": "Отопление",
}  # fmt: skip
READING_STATUSES = {"accepted": "Принято", "rejected": "Отклонено", "pending": "На проверке"}
PROMISE_STATUSES = {
    "pending": "Ожидается",
    "kept": "Выполнено",
    "broken": "Не выполнено",
    "withdrawn": "Отозвано",
}
VISIT_STATUSES = {
    "planned": "Запланирован", "confirmed": "Подтверждён", "rescheduled": "Перенесён",
    "declined": "Отклонён", "cancelled": "Отменён",
}  # fmt: skip
TASK_STATUSES = {"open": "Открыта", "done": "Выполнена", "cancelled": "Отменена"}
AUDIT_ACTIONS = {
    "recording.listen": "Прослушал запись",
    "ticket.status": "Изменил статус заявки",
    "ticket.assign": "Назначил заявку",
    "voice_message.listened": "Прослушал голосовое",
    "voice_message.reviewed": "Обработал голосовое",
    "callback.closed": "Закрыл перезвон",
    "call.review": "Оценил звонок",
    "key.create": "Создал ключ",
    "key.revoke": "Отозвал ключ",
    "recording.denied": "Запрос записи отклонён",
    "company_card.save": "Изменил карточку компании",
    "house_chat.add": "Привязал домовой чат",
    "house_chat.delete": "Удалил домовой чат",
    "office.book": "Записал на приём",
    "office.change": "Изменил запись на приём",
    "office.slot_close": "Закрыл окно приёма",
    "office.slots_add": "Добавил окна приёма",
    "office.slots_import": "Загрузил окна приёма",
    "outage.declare": "Объявил отключение",
    "outage.change": "Изменил отключение",
    "outage.end": "Завершил отключение",
}
OBJECT_TYPES = {
    "call": "звонок", "ticket": "заявка", "voice_message": "голосовое", "callback": "перезвон",
    "api_key": "ключ", "campaign": "обзвон", "outage": "отключение", "house_chat": "домовой чат",
    "office": "приём в офисе", "company_card": "карточка компании",
}  # fmt: skip
EVENT_TYPES = {"ticket.created": "Заявка создана", "contact.finished": "Контакт обзвона завершён"}
DELIVERY_STATUSES = {
    "pending": "Ожидает",
    "sending": "Отправляется",
    "delivered": "Доставлено",
    "skipped": "Пропущено",
    "sent": "Отправлено",
    "failed": "Ошибка",
    "dead": "Не доставлено",
}

# Variables of campaign contacts (CSV columns), as the person preparing the file reads them.
VARIABLES = {
    "phone": "Телефон", "timezone": "Часовой пояс", "account": "Лицевой счёт", "full_name": "ФИО",
    "amount": "Сумма долга, ₽", "period": "Период долга", "address": "Адрес", "message": "Текст оповещения",
    "ticket_number": "Номер заявки", "visit_date": "Дата визита", "visit_id": "Номер визита",
    "window_from": "Визит с", "window_to": "Визит до", "specialist": "Специалист", "purpose": "Цель визита",
    "slots": "Другие слоты", "access_note": "Примечание о доступе",
    "appointment_id": "Номер записи на приём", "topic": "Вопрос посетителя", "question": "Вопрос жителя",
}  # fmt: skip
# An example value per variable for the downloadable CSV template.
EXAMPLES = {
    "phone": "+79161234567", "timezone": "Europe/Moscow", "account": "07234501", "full_name": "Орлова Наталья Петровна",
    "amount": "1200.50", "period": "октябрь 2026", "address": "ул. Гагарина, д. 15, кв. 42",
    "message": "Завтра с 10 до 14 часов не будет горячей воды.", "ticket_number": "Т-0001",
    "visit_date": "2026-12-15", "visit_id": "V-100", "window_from": "10:00", "window_to": "14:00",
    "specialist": "сантехник", "purpose": "поверка счётчиков", "slots": "", "access_note": "",
    "appointment_id": "12", "topic": "перерасчёт за отопление",
}  # fmt: skip

# Column names of the records a call wrote, as a supervisor reads them.
COLUMNS = {
    "id": "№ записи", "number": "Номер", "category": "Категория", "priority": "Приоритет", "address": "Адрес",
    "description": "Описание", "status": "Статус", "created_at": "Создано", "due_at": "Срок",
    "responsible": "Ответственный", "contact_phone": "Телефон для связи", "contact_name": "Имя",
    "closed_at": "Закрыто", "account": "Лицевой счёт", "account_id": "Лицевой счёт", "meter_id": "Счётчик",
    "meter_pk": "Счётчик", "resource": "Ресурс", "value": "Показание", "period": "Период", "amount": "Сумма",
    "promised_date": "Дата оплаты", "ticket_number": "Заявка", "resolved": "Решено", "score": "Оценка",
    "comment": "Комментарий", "visit_id": "Визит", "new_slot": "Новое время", "note": "Заметка",
    "phone": "Телефон", "reason": "Причина", "kind": "Вид", "payload": "Данные", "transcript": "Текст",
    "review_due_at": "Разобрать до", "reviewed_at": "Разобрано", "call_id": "Звонок", "window_start": "С",
    "window_end": "До", "specialist": "Специалист", "purpose": "Цель", "attempts": "Попытки", "result": "Результат",
    "from": "было", "to": "стало", "role": "роль", "prefix": "начало ключа", "name": "название", "tags": "метки",
    "range": "диапазон", "action": "действие", "via": "запрос", "method": "метод", "error": "ошибка",
    "size": "размер, байт", "bytes": "байты", "buildings": "домов", "chat_id": "чат", "added": "добавлено",
    "closed": "закрыто окно", "slot_id": "окно приёма",
}  # fmt: skip


TABLES = {
    "scenario": SCENARIOS,
    "outcome": OUTCOMES,
    "direction": DIRECTIONS,
    "channel": CHANNELS,
    "role": ROLES,
    "speaker": SPEAKERS,
    "campaign_status": CAMPAIGN_STATUSES,
    "contact_state": CONTACT_STATES,
    "ticket_status": TICKET_STATUSES,
    "priority": PRIORITIES,
    "callback_status": CALLBACK_STATUSES,
    "callback_reason": CALLBACK_REASONS,
    "bucket": ANSWER_BUCKETS,
    "action": ACTIONS,
    "attempt_result": ATTEMPT_RESULTS,
    "result": {**ATTEMPT_RESULTS, **OUTCOMES},  # a contact's outcome: the dialogue's, or the last dial's
    "callback_result": CALLBACK_RESULTS,
    "call_status": CALL_STATUSES,
    "audit_action": AUDIT_ACTIONS,
    "delivery_status": DELIVERY_STATUSES,
    "object_type": OBJECT_TYPES,
    "event_type": EVENT_TYPES,
    "column": COLUMNS,
    "intent": INTENTS,
    "resource": RESOURCES,
    "visit_status": VISIT_STATUSES,
    "variable": VARIABLES,
}


def label(code: object, table: str) -> str:
    if code is None or code == "":
        return "—"
    return TABLES.get(table, {}).get(str(code), str(code))


# which code table a column of a call's record uses, by record kind
RECORD_CODES = {
    ("tickets", "status"): "ticket_status", ("callbacks", "status"): "callback_status",
    ("readings", "status"): READING_STATUSES, ("promises", "status"): PROMISE_STATUSES,
    ("visits", "status"): "visit_status", ("tasks", "status"): TASK_STATUSES,
    ("callbacks", "result"): "callback_result", ("callbacks", "reason"): "callback_reason",
}  # fmt: skip
RECORD_COLUMN_CODES = {"priority": "priority", "resource": "resource", "category": "category"}


def any_label(value: object) -> str:
    """A code of unknown kind (an audit detail): its name from the first table that knows it."""
    for table in ("ticket_status", "callback_result", "role", "outcome", "contact_state", "priority"):
        if str(value) in TABLES[table]:
            return TABLES[table][str(value)]
    return str(value)


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian noun form for a count: 1 звонок, 2 звонка, 5 звонков, 11 звонков, 21 звонок."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def count(n: int, one: str, few: str, many: str) -> str:
    """«4 звонка»: the number followed by the right form."""
    return f"{n} {plural(n, one, few, many)}"


# The part of the telephony a `voicebot doctor` finding is about (the text before its first colon),
# said in Russian above the technical line (which stays as the doctor wrote it: commands, paths).
TELEPHONY_PARTS = {
    "AMI": "Нет управления звонками: сервис не подключён к Asterisk (AMI)",
    "Asterisk": "Asterisk настроен не полностью",
    "dialplan": "Ошибка в диалплане Asterisk",
    "FastAGI": "Asterisk не достучится до маршрутизации звонков (FastAGI)",
    "AudioSocket": "Asterisk не достучится до голосового канала (AudioSocket)",
    "speech model": "Нет модели распознавания русской речи",
    "sounds": "Asterisk не найдёт звуковые подсказки",
    "telephony check failed": "Проверка телефонии не выполнилась",
}


def telephony_part(problem: str) -> str:
    """What a doctor finding is about, in Russian."""
    return TELEPHONY_PARTS.get(str(problem).split(":", 1)[0].strip(), "Неполадка телефонии")
