from django.apps import AppConfig


class ChatbotConfig(AppConfig):
    name = "chatbot"
    verbose_name = "Chatbot"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The retention run erases the chat logs of a reporter and of an account (the request
        # domain's hooks).
        from backend.service_requests import hooks
        from chatbot import retention

        hooks.contact_erase_register(retention.retention_contact_erase)
        hooks.accounts_active_register(retention.retention_accounts_active)
        hooks.account_erase_register(retention.retention_account_erase)
        # Status messages go back on the gateway a request was filed by (SMS, WhatsApp).
        from chatbot.gateway_status import gateway_status_deliveries

        hooks.status_pushes_register(gateway_status_deliveries)
