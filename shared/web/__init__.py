"""Web helpers every service's Flask app is built on."""

from shared.web.app import create_service_app
from shared.web.auth import StaffIdentity, current_staff, roles_required

__all__ = ["StaffIdentity", "create_service_app", "current_staff", "roles_required"]
