"""Single sign-on: one signed session cookie, verified by every service.

The tickets service checks passwords and writes the staff member's identity
into the session. Every service shares the secret, cookie name and path, so
each one can verify the same cookie and enforce roles without calling tickets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, jsonify, redirect, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

ROLES = ("owner", "agent", "billing", "trainee")
LOGIN_PATH = "/tickets/login"
SESSION_KEY = "staff"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class StaffIdentity(UserMixin):
    id: int
    name: str
    email: str
    role: str

    def get_id(self) -> str:
        return str(self.id)

    def has_role(self, *roles: str) -> bool:
        # The owner may do everything any role may.
        return self.role == "owner" or self.role in roles


def wants_json() -> bool:
    return request.path.startswith("/api/") or (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"
    )


def _load_from_session(user_id: str) -> StaffIdentity | None:
    claims = session.get(SESSION_KEY)
    if not isinstance(claims, dict) or str(claims.get("id")) != user_id:
        return None
    if claims.get("role") not in ROLES:
        return None
    return StaffIdentity(
        id=int(claims["id"]),
        name=str(claims["name"]),
        email=str(claims["email"]),
        role=str(claims["role"]),
    )


def _unauthorized() -> Any:
    if wants_json():
        return jsonify(error="unauthorized", message="Sign in to use this endpoint."), 401
    next_path = request.script_root + request.full_path.rstrip("?")
    return redirect(f"{LOGIN_PATH}?next={next_path}")


def init_auth(app: Flask) -> None:
    manager = LoginManager()
    manager.user_loader(_load_from_session)
    manager.unauthorized_handler(_unauthorized)
    manager.session_protection = None  # the whole identity lives in the signed cookie
    manager.init_app(app)


def sign_in(staff: StaffIdentity) -> None:
    """Start a fresh session for this staff member (the old one is discarded)."""
    session.clear()
    session[SESSION_KEY] = asdict(staff)
    session.permanent = True
    login_user(staff)


def sign_out() -> None:
    logout_user()
    session.clear()


def current_staff() -> StaffIdentity | None:
    user = current_user._get_current_object()
    return user if isinstance(user, StaffIdentity) else None


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow staff with any of ``roles`` (and the owner); others get 403, strangers 401."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            staff = current_staff()
            if staff is None:
                return _unauthorized()
            if not staff.has_role(*roles):
                abort(403, description=f"This needs one of the roles: {', '.join(roles)}.")
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate
