# ruff: noqa: E501 - one message per line reads better than wrapped strings
"""The texts actions build, per language; English is the fallback for any other language.
Short, plain, friendly; placeholders are ``str.format`` fields."""

from __future__ import annotations

import re
from typing import Any

LANGUAGES = ("en", "es")

TEXTS: dict[str, dict[str, str]] = {
    "ask_service": {
        "en": "What kind of problem is it?",
        "es": "¿Qué tipo de problema es?",
    },
    "service_unknown": {
        "en": "Sorry, I didn't catch which kind of problem that is. Pick one of these:",
        "es": "Perdón, no entendí qué tipo de problema es. Elige uno de estos:",
    },
    "location_too_short": {
        "en": "I need a bit more to find it: a street address, a corner, or share your location.",
        "es": "Necesito un poco más para encontrarlo: una dirección, una esquina o comparte tu ubicación.",
    },
    "location_shared": {
        "en": "your shared location ({lat:.5f}, {long:.5f})",
        "es": "tu ubicación compartida ({lat:.5f}, {long:.5f})",
    },
    "description_too_short": {
        "en": "Could you describe it in a few more words?",
        "es": "¿Puedes describirlo con unas palabras más?",
    },
    "attribute_invalid": {
        "en": "Sorry, I need one of the options.",
        "es": "Perdón, necesito una de las opciones.",
    },
    "attribute_number": {
        "en": "Please answer with a number.",
        "es": "Responde con un número, por favor.",
    },
    "contact_invalid": {
        "en": 'That doesn\'t look like an e-mail address or a phone number. Try again, or say "no".',
        "es": 'Eso no parece un correo ni un teléfono. Inténtalo de nuevo o di "no".',
    },
    "summary": {
        "en": "Here's your report:\n• {service}\n• Where: {location}\n• What: {description}{details}{photo}{contact}\nShall I send it to the city?",
        "es": "Este es tu reporte:\n• {service}\n• Dónde: {location}\n• Qué: {description}{details}{photo}{contact}\n¿Lo envío a la ciudad?",
    },
    "summary_photo": {"en": "\n• Photo attached", "es": "\n• Foto adjunta"},
    "summary_contact": {"en": "\n• Updates to: {contact}", "es": "\n• Avisos a: {contact}"},
    "yes": {"en": "Yes, send it", "es": "Sí, envíalo"},
    "no": {"en": "No", "es": "No"},
    "yes_follow": {"en": "Yes, follow that one", "es": "Sí, seguir esa"},
    "no_new": {"en": "No, it's a new problem", "es": "No, es otro problema"},
    "duplicate": {
        "en": "Someone already reported a {service} {distance} m from there: {id} ({status}, filed {date}). Would you like to follow that request instead of filing a new one?",
        "es": "Alguien ya reportó un problema de {service} a {distance} m de ahí: {id} ({status}, del {date}). ¿Quieres seguir esa solicitud en lugar de crear una nueva?",
    },
    "followed": {
        "en": 'Good: no new request. {id} is already with the city; ask me "status of {id}" any time.',
        "es": 'Bien: no creo una nueva. {id} ya está con la ciudad; pregúntame "estado de {id}" cuando quieras.',
    },
    "filed": {
        "en": "Done! Your request number is {id}. {notice} I'll keep it here if you want to check on it later.",
        "es": "¡Listo! Tu número de solicitud es {id}. {notice} Puedes preguntarme por ella cuando quieras.",
    },
    "rejected": {
        "en": "The city couldn't take this report: {errors}. Let's start again, or use the web form: {url}",
        "es": "La ciudad no pudo recibir este reporte: {errors}. Empecemos de nuevo o usa el formulario web: {url}",
    },
    "backend_down": {
        "en": "I can't reach the city's system right now. Say \"yes\" in a minute to try again, or use the web form: {url}",
        "es": 'No puedo comunicarme con el sistema de la ciudad ahora. Di "sí" en un minuto para intentarlo de nuevo, o usa el formulario web: {url}',
    },
    "notice_hours": {
        "en": "{agency} aims to handle this within {hours} hours.",
        "es": "{agency} prevé atenderla en un plazo de {hours} horas.",
    },
    "notice_business_hours": {
        "en": "{agency} aims to handle this within {hours} business hours.",
        "es": "{agency} prevé atenderla en un plazo de {hours} horas hábiles.",
    },
    "rejected_fields": {
        "en": "check {fields}",
        "es": "revisa {fields}",
    },
    "not_filed": {
        "en": "OK, I didn't send anything. Anything else I can do?",
        "es": "Bien, no envié nada. ¿Algo más en que pueda ayudar?",
    },
    "cancelled": {
        "en": "OK, cancelled. Nothing was sent. Tell me if there's anything else.",
        "es": "Listo, cancelado. No se envió nada. Dime si hay algo más.",
    },
    "nothing_pending": {
        "en": "OK. You can report a problem or check a request number.",
        "es": "Bien. Puedes reportar un problema o revisar un número de solicitud.",
    },
    "status": {
        "en": "{id} ({service}) is {status}.{note}{expected}",
        "es": "{id} ({service}) está {status}.{note}{expected}",
    },
    "status_open": {"en": "open", "es": "abierta"},
    "status_closed": {"en": "closed", "es": "cerrada"},
    "status_note": {"en": ' Latest note: "{note}"', "es": ' Última nota: "{note}"'},
    "status_expected": {"en": " Expected by {date}.", "es": " Fecha prevista: {date}."},
    "status_not_found": {
        "en": "I couldn't find a request {id}. Check the number (it looks like SR-2026-000123).",
        "es": "No encontré la solicitud {id}. Revisa el número (se ve así: SR-2026-000123).",
    },
    "request_id_invalid": {
        "en": "That doesn't look like a request number. It looks like SR-2026-000123.",
        "es": "Eso no parece un número de solicitud. Se ve así: SR-2026-000123.",
    },
    "fallback": {
        "en": 'Sorry, I didn\'t understand. You can describe a problem ("streetlight out on Oak St") or give me a request number.',
        "es": 'Perdón, no entendí. Puedes describir un problema ("luz apagada en la calle Roble") o darme un número de solicitud.',
    },
    "fallback_twice": {
        "en": "I'm sorry, I'm still not getting it. You can talk to a person at 311, or fill in the web form: {url}",
        "es": "Lo siento, sigo sin entender. Puedes hablar con una persona al 311 o llenar el formulario web: {url}",
    },
    "talk_to_person": {"en": "Talk to a person", "es": "Hablar con una persona"},
    "human": {
        "en": "A person can help you: call 311 (Mon-Fri 8am-6pm), or report online with the web form: {url}",
        "es": "Una persona puede ayudarte: llama al 311 (lun-vie 8-18 h), o reporta en línea con el formulario web: {url}",
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
}
OTHER_FIELD = {"es": "los datos"}


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
