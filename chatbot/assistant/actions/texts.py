# ruff: noqa: E501 - one message per line reads better than wrapped strings
"""The texts actions build, per language (English, Spanish, Vietnamese); English is the fallback for any other language.
Short, plain, friendly; placeholders are ``str.format`` fields."""

from __future__ import annotations

import re
from typing import Any

LANGUAGES = ("en", "es", "vi")

TEXTS: dict[str, dict[str, str]] = {
    "ask_service": {
        "en": "What kind of problem is it?",
        "es": "¿Qué tipo de problema es?",
        "vi": "Đó là loại sự cố gì?",
    },
    "service_unknown": {
        "en": "Sorry, I didn't catch which kind of problem that is. Pick one of these:",
        "es": "Perdón, no entendí qué tipo de problema es. Elige uno de estos:",
        "vi": "Xin lỗi, tôi chưa hiểu đó là loại sự cố gì. Hãy chọn một mục:",
    },
    "location_taken": {
        "en": "Got it, at {location}.",
        "es": "Entendido, en {location}.",
        "vi": "Đã ghi nhận, ở {location}.",
    },
    "which_service": {
        "en": "Which kind of problem is it?",
        "es": "¿Qué tipo de problema es?",
        "vi": "Đó là loại sự cố nào?",
    },
    "other_service": {"en": "Something else", "es": "Otra cosa", "vi": "Việc khác"},
    "location_too_short": {
        "en": "I need a bit more to find it: a street address, a corner, or share your location.",
        "es": "Necesito un poco más para encontrarlo: una dirección, una esquina o comparte tu ubicación.",
        "vi": "Tôi cần thêm chút thông tin để tìm chỗ đó: địa chỉ, góc đường, hoặc chia sẻ vị trí của bạn.",
    },
    "location_shared": {
        "en": "your shared location ({lat:.5f}, {long:.5f})",
        "es": "tu ubicación compartida ({lat:.5f}, {long:.5f})",
        "vi": "vị trí bạn đã chia sẻ ({lat:.5f}, {long:.5f})",
    },
    "description_too_short": {
        "en": "Could you describe it in a few more words?",
        "es": "¿Puedes describirlo con unas palabras más?",
        "vi": "Bạn mô tả thêm vài chữ được không?",
    },
    "attribute_invalid": {
        "en": "Sorry, I need one of the options.",
        "es": "Perdón, necesito una de las opciones.",
        "vi": "Xin lỗi, tôi cần một trong các lựa chọn.",
    },
    "attribute_number": {
        "en": "Please answer with a number.",
        "es": "Responde con un número, por favor.",
        "vi": "Vui lòng trả lời bằng một con số.",
    },
    "contact_invalid": {
        "en": 'That doesn\'t look like an e-mail address or a phone number. Try again, or say "no".',
        "es": 'Eso no parece un correo ni un teléfono. Inténtalo de nuevo o di "no".',
        "vi": 'Đó không giống địa chỉ email hay số điện thoại. Thử lại, hoặc nói "không".',
    },
    "summary": {
        "en": "Here's your report:\n• {service}\n• Where: {location}\n• What: {description}{details}{photo}{contact}\nShall I send it to the city?",
        "es": "Este es tu reporte:\n• {service}\n• Dónde: {location}\n• Qué: {description}{details}{photo}{contact}\n¿Lo envío a la ciudad?",
        "vi": "Đây là báo cáo của bạn:\n• {service}\n• Ở đâu: {location}\n• Sự việc: {description}{details}{photo}{contact}\nTôi gửi cho thành phố nhé?",
    },
    "summary_photo": {
        "en": "\n• Photo attached",
        "es": "\n• Foto adjunta",
        "vi": "\n• Có ảnh đính kèm",
    },
    "summary_contact": {
        "en": "\n• Updates to: {contact}",
        "es": "\n• Avisos a: {contact}",
        "vi": "\n• Báo tin cho: {contact}",
    },
    "yes": {"en": "Yes, send it", "es": "Sí, envíalo", "vi": "Có, gửi đi"},
    "no": {"en": "No", "es": "No", "vi": "Không"},
    "yes_follow": {
        "en": "Yes, follow that one",
        "es": "Sí, seguir esa",
        "vi": "Có, theo dõi yêu cầu đó",
    },
    "no_new": {
        "en": "No, it's a new problem",
        "es": "No, es otro problema",
        "vi": "Không, đây là sự cố khác",
    },
    "duplicate": {
        "en": "Someone already reported a {service} {distance} m from there: {id} ({status}, filed {date}). Would you like to follow that request instead of filing a new one?",
        "es": "Alguien ya reportó un problema de {service} a {distance} m de ahí: {id} ({status}, del {date}). ¿Quieres seguir esa solicitud en lugar de crear una nueva?",
        "vi": "Đã có người báo {service} cách đó {distance} m: {id} ({status}, gửi ngày {date}). Bạn có muốn theo dõi yêu cầu đó thay vì gửi yêu cầu mới không?",
    },
    "followed": {
        "en": 'Good: no new request. {id} is already with the city; ask me "status of {id}" any time.',
        "es": 'Bien: no creo una nueva. {id} ya está con la ciudad; pregúntame "estado de {id}" cuando quieras.',
        "vi": 'Được: không tạo yêu cầu mới. {id} đã được chuyển cho thành phố; hỏi tôi "tình trạng {id}" bất cứ lúc nào.',
    },
    "filed": {
        "en": "Done! Your request number is {id}. {notice} I'll keep it here if you want to check on it later.",
        "es": "¡Listo! Tu número de solicitud es {id}. {notice} Puedes preguntarme por ella cuando quieras.",
        "vi": "Xong! Số yêu cầu của bạn là {id}. {notice} Bạn có thể hỏi tôi về nó bất cứ lúc nào.",
    },
    "rejected": {
        "en": "The city couldn't take this report: {errors}. Let's start again, or use the web form: {url}",
        "es": "La ciudad no pudo recibir este reporte: {errors}. Empecemos de nuevo o usa el formulario web: {url}",
        "vi": "Thành phố chưa nhận được báo cáo này: {errors}. Mình bắt đầu lại nhé, hoặc dùng mẫu trên web: {url}",
    },
    "backend_down": {
        "en": "I can't reach the city's system right now. Say \"yes\" in a minute to try again, or use the web form: {url}",
        "es": 'No puedo comunicarme con el sistema de la ciudad ahora. Di "sí" en un minuto para intentarlo de nuevo, o usa el formulario web: {url}',
        "vi": 'Hiện tôi không kết nối được với hệ thống của thành phố. Một phút nữa nói "có" để thử lại, hoặc dùng mẫu trên web: {url}',
    },
    "notice_hours": {
        "en": "{agency} aims to handle this within {hours} hours.",
        "es": "{agency} prevé atenderla en un plazo de {hours} horas.",
        "vi": "{agency} dự kiến xử lý trong vòng {hours} giờ.",
    },
    "notice_business_hours": {
        "en": "{agency} aims to handle this within {hours} business hours.",
        "es": "{agency} prevé atenderla en un plazo de {hours} horas hábiles.",
        "vi": "{agency} dự kiến xử lý trong vòng {hours} giờ làm việc.",
    },
    "rejected_fields": {
        "en": "check {fields}",
        "es": "revisa {fields}",
        "vi": "kiểm tra {fields}",
    },
    "not_filed": {
        "en": "OK, I didn't send anything. Anything else I can do?",
        "es": "Bien, no envié nada. ¿Algo más en que pueda ayudar?",
        "vi": "Được, tôi chưa gửi gì cả. Tôi giúp được gì khác không?",
    },
    "cancelled": {
        "en": "OK, cancelled. Nothing was sent. Tell me if there's anything else.",
        "es": "Listo, cancelado. No se envió nada. Dime si hay algo más.",
        "vi": "Được, đã hủy. Không có gì được gửi. Cần gì khác cứ nói tôi.",
    },
    "nothing_pending": {
        "en": "OK. You can report a problem or check a request number.",
        "es": "Bien. Puedes reportar un problema o revisar un número de solicitud.",
        "vi": "Được. Bạn có thể báo một sự cố hoặc tra cứu số yêu cầu.",
    },
    "status": {
        "en": "{id} ({service}) is {status}.{note}{expected}",
        "es": "{id} ({service}) está {status}.{note}{expected}",
        "vi": "{id} ({service}): {status}.{note}{expected}",
    },
    "status_open": {"en": "open", "es": "abierta", "vi": "đang mở"},
    "status_closed": {"en": "closed", "es": "cerrada", "vi": "đã đóng"},
    "status_note": {
        "en": ' Latest note: "{note}"',
        "es": ' Última nota: "{note}"',
        "vi": ' Ghi chú mới nhất: "{note}"',
    },
    "status_expected": {
        "en": " Expected by {date}.",
        "es": " Fecha prevista: {date}.",
        "vi": " Dự kiến xong trước {date}.",
    },
    "status_not_found": {
        "en": "I couldn't find a request {id}. Check the number (it looks like SR-2026-000123).",
        "es": "No encontré la solicitud {id}. Revisa el número (se ve así: SR-2026-000123).",
        "vi": "Tôi không tìm thấy yêu cầu {id}. Kiểm tra lại số (dạng SR-2026-000123).",
    },
    "request_id_invalid": {
        "en": "That doesn't look like a request number. It looks like SR-2026-000123.",
        "es": "Eso no parece un número de solicitud. Se ve así: SR-2026-000123.",
        "vi": "Đó không giống số yêu cầu. Số yêu cầu có dạng SR-2026-000123.",
    },
    "fallback": {
        "en": 'Sorry, I didn\'t understand. You can describe a problem ("streetlight out on Oak St") or give me a request number.',
        "es": 'Perdón, no entendí. Puedes describir un problema ("luz apagada en la calle Roble") o darme un número de solicitud.',
        "vi": 'Xin lỗi, tôi chưa hiểu. Bạn có thể mô tả sự cố ("đèn đường tắt ở đường Lê Lợi") hoặc cho tôi số yêu cầu.',
    },
    "fallback_twice": {
        "en": "I'm sorry, I'm still not getting it. You can talk to a person at 311, or fill in the web form: {url}",
        "es": "Lo siento, sigo sin entender. Puedes hablar con una persona al 311 o llenar el formulario web: {url}",
        "vi": "Xin lỗi, tôi vẫn chưa hiểu. Bạn có thể nói chuyện với nhân viên qua số 311, hoặc điền mẫu trên web: {url}",
    },
    "talk_to_person": {
        "en": "Talk to a person",
        "es": "Hablar con una persona",
        "vi": "Nói chuyện với nhân viên",
    },
    "human": {
        "en": "A person can help you: call 311 (Mon-Fri 8am-6pm), or report online with the web form: {url}",
        "es": "Una persona puede ayudarte: llama al 311 (lun-vie 8-18 h), o reporta en línea con el formulario web: {url}",
        "vi": "Nhân viên có thể giúp bạn: gọi 311 (thứ Hai-thứ Sáu 8-18 giờ), hoặc báo trực tuyến bằng mẫu trên web: {url}",
    },
    # --- Questions answered from data (actions/questions.py) and a person (handoff)
    "turnaround": {
        "en": "{service}: {department} aims to handle it within {duration}.",
        "es": "{service}: {department} prevé atenderlo en un plazo de {duration}.",
        "vi": "{service}: {department} dự kiến xử lý trong vòng {duration}.",
    },
    "turnaround_which": {
        "en": 'Which kind of problem? Ask me for example "how long does a pothole take".',
        "es": '¿Qué tipo de problema? Pregúntame por ejemplo "cuánto tardan en arreglar un bache".',
        "vi": 'Loại sự cố nào? Ví dụ hỏi tôi "sửa ổ gà mất bao lâu".',
    },
    "duration_hours": {"en": "{n} hours", "es": "{n} horas", "vi": "{n} giờ"},
    "duration_business_hours": {
        "en": "{n} business hours",
        "es": "{n} horas hábiles",
        "vi": "{n} giờ làm việc",
    },
    "duration_days": {"en": "{n} days", "es": "{n} días", "vi": "{n} ngày"},
    "next_steps_request": {
        "en": 'What happens next with {id} ({service}): 1) it is with {department}, who plan the work; 2) a crew goes out to fix it; 3) {expected} You\'ll hear back when its status changes; ask me "status of my report" any time.',
        "es": 'Lo que sigue con {id} ({service}): 1) está con {department}, que planifica el trabajo; 2) una cuadrilla va a arreglarlo; 3) {expected} Recibirás un aviso cuando cambie su estado; pregúntame "estado de mi reporte" cuando quieras.',
        "vi": 'Các bước tiếp theo với {id} ({service}): 1) yêu cầu đã đến {department}, nơi lên kế hoạch công việc; 2) một đội sẽ đến sửa; 3) {expected} Bạn sẽ nhận tin khi trạng thái thay đổi; hỏi tôi "tình trạng báo cáo của tôi" bất cứ lúc nào.',
    },
    "next_steps_service": {
        "en": "After you report a {service}: 1) it goes to {department}, who plan the work; 2) a crew goes out to fix it; 3) they aim to handle it within {duration}. You get a request number to check on it.",
        "es": "Después de reportar {service}: 1) va a {department}, que planifica el trabajo; 2) una cuadrilla va a arreglarlo; 3) prevén atenderlo en un plazo de {duration}. Recibes un número de solicitud para darle seguimiento.",
        "vi": "Sau khi bạn báo {service}: 1) báo cáo đến {department}, nơi lên kế hoạch công việc; 2) một đội sẽ đến sửa; 3) họ dự kiến xử lý trong vòng {duration}. Bạn nhận số yêu cầu để tra cứu.",
    },
    "next_steps": {
        "en": 'After you report a problem: 1) it goes to the city department in charge; 2) they send a crew to fix it; 3) each kind of problem has an expected time (ask me, for example, "how long does a pothole take"). You get a request number to check on it.',
        "es": 'Después de reportar un problema: 1) va al departamento de la ciudad encargado; 2) envían una cuadrilla a arreglarlo; 3) cada tipo de problema tiene un plazo previsto (pregúntame, por ejemplo, "cuánto tardan en arreglar un bache"). Recibes un número de solicitud para darle seguimiento.',
        "vi": 'Sau khi bạn báo sự cố: 1) báo cáo đến bộ phận phụ trách của thành phố; 2) họ cử một đội đến sửa; 3) mỗi loại sự cố có thời gian dự kiến (ví dụ hỏi tôi "sửa ổ gà mất bao lâu"). Bạn nhận số yêu cầu để tra cứu.',
    },
    "expected_by": {
        "en": "it is expected to be done by {date}.",
        "es": "la fecha prevista es el {date}.",
        "vi": "dự kiến xong trước ngày {date}.",
    },
    "expected_within": {
        "en": "they aim to handle it within {duration}.",
        "es": "prevén atenderlo en un plazo de {duration}.",
        "vi": "họ dự kiến xử lý trong vòng {duration}.",
    },
    "expected_closed": {
        "en": "it is already closed.",
        "es": "ya está cerrada.",
        "vi": "yêu cầu đã đóng.",
    },
    "own_requests": {
        "en": "Your latest requests:\n{lines}",
        "es": "Tus últimas solicitudes:\n{lines}",
        "vi": "Các yêu cầu gần đây của bạn:\n{lines}",
    },
    "own_request_line": {
        "en": "• {id} ({service}): {status}.{expected}",
        "es": "• {id} ({service}): {status}.{expected}",
        "vi": "• {id} ({service}): {status}.{expected}",
    },
    "hours": {
        "en": "The 311 call centre is open {schedule} ({zone}). {now}",
        "es": "El centro de llamadas 311 atiende {schedule} ({zone}). {now}",
        "vi": "Tổng đài 311 làm việc {schedule} ({zone}). {now}",
    },
    "hours_open_now": {
        "en": "It's open now, until {time}.",
        "es": "Ahora está abierto, hasta las {time}.",
        "vi": "Hiện đang mở, đến {time}.",
    },
    "hours_closed_now": {
        "en": "It's closed now and opens {when} at {time}.",
        "es": "Ahora está cerrado y abre {when} a las {time}.",
        "vi": "Hiện đang đóng và sẽ mở {when} lúc {time}.",
    },
    "hours_none": {
        "en": "The call centre has no opening hours set; use the web form: {url}",
        "es": "El centro de llamadas no tiene horario; usa el formulario web: {url}",
        "vi": "Tổng đài chưa có giờ làm việc; hãy dùng mẫu trên web: {url}",
    },
    "today": {"en": "today", "es": "hoy", "vi": "hôm nay"},
    "tomorrow": {"en": "tomorrow", "es": "mañana", "vi": "ngày mai"},
    "weekdays": {
        "en": "Mon,Tue,Wed,Thu,Fri,Sat,Sun",
        "es": "lun,mar,mié,jue,vie,sáb,dom",
        "vi": "T2,T3,T4,T5,T6,T7,CN",
    },
    "weekdays_on": {
        "en": "on Monday,on Tuesday,on Wednesday,on Thursday,on Friday,on Saturday,on Sunday",
        "es": "el lunes,el martes,el miércoles,el jueves,el viernes,el sábado,el domingo",
        "vi": "thứ Hai,thứ Ba,thứ Tư,thứ Năm,thứ Sáu,thứ Bảy,Chủ nhật",
    },
    "handoff_live": {
        "en": "I've passed this conversation to a person at 311: they'll answer here soon. Until they're done, I'll stay quiet.",
        "es": "Pasé esta conversación a una persona del 311: te responderá aquí pronto. Mientras tanto, no responderé yo.",
        "vi": "Tôi đã chuyển cuộc trò chuyện này cho nhân viên 311: họ sẽ trả lời tại đây sớm. Trong lúc đó tôi sẽ không trả lời.",
    },
    "handoff_callback_phone": {
        "en": "The 311 call centre is closed now. I've asked for a callback: we will call you back {when} after {time}.",
        "es": "El centro de llamadas 311 está cerrado ahora. Pedí que te llamen: te llamaremos {when} después de las {time}.",
        "vi": "Tổng đài 311 hiện đã đóng. Tôi đã yêu cầu gọi lại: chúng tôi sẽ gọi lại cho bạn {when} sau {time}.",
    },
    "handoff_callback_web": {
        "en": "The 311 call centre is closed now. I've left your request for a person: they'll answer in this chat {when} after {time}, or call 311 then. The web form works any time: {url}",
        "es": "El centro de llamadas 311 está cerrado ahora. Dejé tu solicitud para una persona: te responderá en este chat {when} después de las {time}, o llama al 311 entonces. El formulario web funciona siempre: {url}",
        "vi": "Tổng đài 311 hiện đã đóng. Tôi đã để lại yêu cầu của bạn cho nhân viên: họ sẽ trả lời trong cuộc trò chuyện này {when} sau {time}, hoặc bạn gọi 311 lúc đó. Mẫu trên web luôn dùng được: {url}",
    },
}


def language_of(value: Any) -> str:
    code = str(value or "en")[:2].lower()
    return code if code in LANGUAGES else "en"


def text(key: str, language: str, **fields: Any) -> str:
    variants = TEXTS[key]
    template = variants.get(language_of(language)) or variants["en"]
    return template.format(**fields) if fields else template


# The Open311 POST's service_notice is English whatever the Accept-Language
# (backend/open311/serializers.py: service_notice); rebuilt here in the conversation's language.
NOTICE = re.compile(
    r"^(?P<agency>.+?) aims to handle this within (?P<hours>\d+) (?P<unit>business hours|hours)\.$"
)
# Open311's error descriptions are "parameter: message", the message in English; in another
# language the resident is told which of their answers to check instead.
FIELD_LABELS: dict[str, dict[str, str]] = {
    "es": {
        "address_string": "la dirección",
        "lat": "la ubicación",
        "long": "la ubicación",
        "description": "la descripción",
        "attribute": "los detalles",
        "email": "el contacto",
        "phone": "el contacto",
        "service_code": "el tipo de problema",
        "media": "la foto",
    },
    "vi": {
        "address_string": "địa chỉ",
        "lat": "vị trí",
        "long": "vị trí",
        "description": "phần mô tả",
        "attribute": "các chi tiết",
        "email": "thông tin liên lạc",
        "phone": "thông tin liên lạc",
        "service_code": "loại sự cố",
        "media": "ảnh",
    },
}
OTHER_FIELD = {"es": "los datos", "vi": "thông tin"}


def service_notice(notice: str, language: str) -> str:
    """The backend's notice in the conversation's language; left out when it cannot be
    translated (better no notice than one in another language)."""
    lang = language_of(language)
    if lang == "en" or not notice:
        return notice
    found = NOTICE.match(notice.strip())
    if not found:
        return ""
    key = "notice_business_hours" if found["unit"] == "business hours" else "notice_hours"
    return text(key, lang, agency=found["agency"], hours=found["hours"])


def rejection_reasons(messages: list[str], language: str) -> str:
    """Why the backend refused the report: its own words in English, else the answers to
    check, named in the conversation's language."""
    lang = language_of(language)
    if lang == "en":
        return "; ".join(m for m in messages if m) or "?"
    labels: list[str] = []
    for message in messages:
        field = message.split(":", 1)[0].split("[", 1)[0].strip() if ":" in message else ""
        label = FIELD_LABELS[lang].get(field, OTHER_FIELD[lang])
        if label not in labels:
            labels.append(label)
    reply = text("rejected_fields", lang, fields=", ".join(labels or [OTHER_FIELD[lang]]))
    # A service switched off by the city carries the staff's words (e.g. "Call 911 for a gas
    # leak"): they are passed on as written, never dropped for a field label.
    notices = [
        message.split(":", 1)[1].strip()
        for message in messages
        if ":" in message and message.split(":", 1)[0].strip() == "service_code"
    ]
    return " ".join([reply, *notices])
