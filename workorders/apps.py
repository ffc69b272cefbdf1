from django.apps import AppConfig


class WorkOrdersConfig(AppConfig):
    name = "workorders"
    verbose_name = "Work orders"

    def ready(self) -> None:
        # A request closed as resolved: its message shows the finished work's proof photos
        # and the "Was it fixed?" link (the request domain's hooks).
        from backend.service_requests import hooks
        from workorders import retention
        from workorders.feedback import feedback_url_make, proof_photo_urls

        hooks.closing_photo_urls_register(proof_photo_urls)
        hooks.feedback_link_register(feedback_url_make)
        # The retention run: proof photos' EXIF goes, crews' accounts stay.
        hooks.contact_erase_register(retention.retention_contact_erase)
        hooks.accounts_active_register(retention.retention_accounts_active)
