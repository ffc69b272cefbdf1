"""The one intake pipeline every channel calls: web, mobile app, chatbot, Open311, the
call centre (phone) and bulk import. See ``backend.intake.services.service_request_submit``."""
