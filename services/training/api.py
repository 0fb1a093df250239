"""Training's REST API under ``/api/``, described by OpenAPI at ``/api/openapi.json``.

- ``POST /api/checks``: a reply and its ticket's context in, the checker's
  findings out (any signed-in staff member; the desk calls it as staff type).
- ``/api/playbooks``: the lessons and scripts in force, each one's versions
  and the diff between two; the owner publishes an edit as a new version. A
  lesson's quiz answers (and the source and diffs that hold them) are the
  owner's: everyone else reads the questions and options only.
- ``/api/checker/settings``: the checker's severities, phrases and numbers;
  the owner tunes them.
- ``/api/coaching``: per staff member, findings, ratings and SLA adherence by
  week, low ratings with the rules broken; the owner decides revocation
  proposals (owner only).

Errors are JSON ``{"error", "message"}`` (and ``"errors"`` per field): 404 for
an unknown playbook or version, 422 for input training cannot accept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, abort, current_app, jsonify
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from services.training import checking, coaching, versions
from services.training.checker import CHECK_KEYS, LANGUAGES, ReplyContext
from services.training.checker.lexicon import SEVERITIES, LexiconError
from services.training.content import PlaybookError, without_answers
from shared.db import Database
from shared.web import current_staff
from shared.web.api import init_service_api, staff_blueprint

MAX_REPLY = 20_000


@contextmanager
def _transaction() -> Iterator[Session]:
    database: Database = current_app.extensions["cortesia.database"]
    with database.transaction() as session:
        yield session


def _staff_email() -> str:
    staff = current_staff()
    assert staff is not None, "the blueprint guard lets only signed-in staff through"
    return staff.email


# -- schemas ---------------------------------------------------------------------------


class ContextIn(Schema):
    kind = fields.String(load_default="reply", validate=validate.OneOf(("reply", "resolution")))
    waited_past_sla = fields.Boolean(load_default=False)
    emergency = fields.Boolean(load_default=False)
    beyond_hosting = fields.Boolean(load_default=False)
    customer_id = fields.Integer(allow_none=True, load_default=None, strict=True)


class CheckIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REPLY))
    language = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(LANGUAGES))
    """Which language the findings are explained in; detected from the text if not given."""
    context = fields.Nested(ContextIn, load_default=dict)


class FindingOut(Schema):
    check = fields.String()
    rule = fields.String()
    severity = fields.String()
    message = fields.String()
    why = fields.String()
    lesson = fields.String()
    start = fields.Integer()
    end = fields.Integer()
    evidence = fields.String()


class CheckOut(Schema):
    language = fields.String()
    blocking = fields.Boolean()
    findings = fields.List(fields.Nested(FindingOut))


class PlaybookSummaryOut(Schema):
    id = fields.String(attribute="playbook.playbook_id")
    kind = fields.String(attribute="playbook.kind")
    rules = fields.List(fields.String(), attribute="playbook.rules")
    title = fields.Dict(attribute="playbook.title")
    module = fields.String(attribute="playbook.module", allow_none=True)
    situation = fields.String(attribute="playbook.situation", allow_none=True)
    version = fields.Integer()


class PlaybookOut(PlaybookSummaryOut):
    source = fields.String(metadata={"description": "The YAML as written; the owner's only."})
    content = fields.Dict(
        attribute="playbook.content",
        metadata={"description": "Quiz answers and explanations for the owner only."},
    )


class PlaybookEditIn(Schema):
    source = fields.String(required=True, validate=validate.Length(min=1, max=200_000))
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))


class VersionOut(Schema):
    version = fields.Integer()
    author = fields.String()
    note = fields.String(allow_none=True)
    from_file = fields.Boolean()
    created_at = fields.AwareDateTime()


class DiffQuery(Schema):
    older = fields.Integer(
        required=True, data_key="from", validate=validate.Range(min=1), metadata={"example": 1}
    )
    newer = fields.Integer(required=True, data_key="to", validate=validate.Range(min=1))


class SettingIn(Schema):
    severity = fields.String(validate=validate.OneOf(SEVERITIES))
    phrases = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    numbers = fields.Dict(
        keys=fields.String(), values=fields.Integer(strict=True, validate=validate.Range(min=1))
    )


class WeekOut(Schema):
    starts_on = fields.Date()
    replies = fields.Integer()
    findings = fields.Dict(keys=fields.String(), values=fields.Integer())
    average_rating = fields.Float(allow_none=True)
    resolutions = fields.Integer()
    sla_met = fields.Integer()


class LowRatingOut(Schema):
    ticket_id = fields.Integer()
    rating = fields.Integer()
    comment = fields.String(allow_none=True)
    rated_at = fields.AwareDateTime()
    broken = fields.List(fields.Dict())


class ProposalOut(Schema):
    id = fields.Integer()
    staff_id = fields.Integer()
    reason = fields.String()
    status = fields.String()
    proposed_at = fields.DateTime()
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)


class CoachingOut(Schema):
    staff_id = fields.Integer(attribute="member.staff_id")
    name = fields.String(attribute="member.name")
    role = fields.String(attribute="member.role")
    supervision = fields.Method("_supervision")
    replies = fields.Integer()
    average_rating = fields.Float(allow_none=True)
    sla_adherence = fields.Float(allow_none=True)
    weeks = fields.List(fields.Nested(WeekOut))
    low_ratings = fields.List(fields.Nested(LowRatingOut))
    proposals = fields.List(fields.Nested(ProposalOut))

    def _supervision(self, view: coaching.StaffCoaching) -> dict[str, Any] | None:
        if view.enrolment is None:
            return None
        return {"status": view.enrolment.status, "share_held": view.enrolment.share_held}


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("confirm", "dismiss")))
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))


# -- blueprints ------------------------------------------------------------------------


def _blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    return staff_blueprint(
        name,
        __name__,
        url_prefix,
        description,
        roles=("agent", "billing", "trainee"),
        refusals={
            versions.UnknownPlaybook: 404,
            PlaybookError: 422,
            LexiconError: 422,
            coaching.CoachingError: 409,
            coaching.NotFound: 404,
        },
    )


checks = _blueprint("checks", "/api/checks", "The reply checker")
playbooks = _blueprint("playbooks", "/api/playbooks", "Lessons and scripts, with their versions")
checker_settings = _blueprint(
    "checker_settings", "/api/checker/settings", "The owner's tuning of the reply checker"
)

coaching_api = _blueprint("coaching_api", "/api/coaching", "The owner's coaching of the team")


def _is_owner() -> bool:
    staff = current_staff()
    return staff is not None and staff.role == "owner"


def _owner_only() -> None:
    if not _is_owner():
        abort(403, description="Only the owner can change this.")


@checks.route("", methods=["POST"])
@checks.arguments(CheckIn)
@checks.response(200, CheckOut)
def post_check(data: dict[str, Any]) -> Any:
    """Check a reply before it is sent: each finding, why, and the lesson that teaches it."""
    with _transaction() as session:
        result = checking.checker(session).check(
            data["text"], ReplyContext(**data["context"]), data["language"]
        )
    return {"language": result.language, "blocking": result.blocking, "findings": result.findings}


@playbooks.route("", methods=["GET"])
@playbooks.response(200, PlaybookSummaryOut(many=True))
def list_playbooks() -> Any:
    """Every lesson and script in force, newest version of each."""
    with _transaction() as session:
        return versions.all_current(session)


@playbooks.route("/<playbook_id>", methods=["GET"])
@playbooks.response(200, PlaybookOut)
def get_playbook(playbook_id: str) -> Any:
    """A lesson or script in force. A trainee reads a lesson here before taking its quiz,
    so only the owner, who writes the quizzes, gets their answers and the source."""
    with _transaction() as session:
        current = versions.current(session, playbook_id)
    if _is_owner():
        return current
    return {"playbook": without_answers(current.playbook), "version": current.version}


@playbooks.route("/<playbook_id>", methods=["PUT"])
@playbooks.arguments(PlaybookEditIn)
@playbooks.response(200, PlaybookOut)
def put_playbook(data: dict[str, Any], playbook_id: str) -> Any:
    """Publish the owner's edit as the playbook's next version (announced as an event)."""
    _owner_only()
    with _transaction() as session:
        versions.publish_edit(session, playbook_id, data["source"], _staff_email(), data["note"])
        return versions.current(session, playbook_id)


@playbooks.route("/<playbook_id>/versions", methods=["GET"])
@playbooks.response(200, VersionOut(many=True))
def get_versions(playbook_id: str) -> Any:
    with _transaction() as session:
        return versions.history(session, playbook_id)


@playbooks.route("/<playbook_id>/diff", methods=["GET"])
@playbooks.arguments(DiffQuery, location="query")
def get_diff(query: dict[str, int], playbook_id: str) -> Any:
    """The unified diff between two versions (``?from=1&to=2``); a lesson's, whose lines
    carry its quiz answers, for the owner only."""
    with _transaction() as session:
        if versions.current(session, playbook_id).playbook.kind == "lesson" and not _is_owner():
            abort(403, description="A lesson's changes show its quiz answers: the owner's only.")
        text = versions.diff(session, playbook_id, query["older"], query["newer"])
    return jsonify(playbook_id=playbook_id, diff=text)


@checker_settings.route("", methods=["GET"])
def get_settings() -> Any:
    """Every check with its severity, phrases and numbers as in force."""
    with _transaction() as session:
        lexicon = checking.lexicon(session)
    return jsonify(
        {
            key: {
                "severity": lexicon[key].severity,
                "phrases": {name: list(words) for name, words in lexicon[key].phrases.items()},
                "numbers": dict(lexicon[key].numbers),
            }
            for key in CHECK_KEYS
        }
    )


@checker_settings.route("/<check_key>", methods=["PATCH"])
@checker_settings.arguments(SettingIn)
def patch_setting(data: dict[str, Any], check_key: str) -> Any:
    """Tune one check: any of its severity, phrase lists (replaced whole) and numbers."""
    _owner_only()
    with _transaction() as session:
        tuned = checking.save_overrides(session, check_key, data, _staff_email())
    settings = tuned[check_key]
    return jsonify(
        check=check_key,
        severity=settings.severity,
        phrases={name: list(words) for name, words in settings.phrases.items()},
        numbers=dict(settings.numbers),
    )


@coaching_api.route("/<int:staff_id>", methods=["GET"])
@coaching_api.response(200, CoachingOut)
def get_coaching(staff_id: int) -> Any:
    """The last twelve weeks of one staff member's work at the desk."""
    _owner_only()
    with _transaction() as session:
        return coaching.staff_coaching(session, staff_id)


@coaching_api.route("/proposals/<int:proposal_id>", methods=["POST"])
@coaching_api.arguments(DecisionIn)
@coaching_api.response(200, ProposalOut)
def post_decision(data: dict[str, Any], proposal_id: int) -> Any:
    """Confirm (with a note) or dismiss a proposal to put someone back under supervision."""
    _owner_only()
    with _transaction() as session:
        proposal = coaching.decide(
            session,
            proposal_id,
            confirm=data["decision"] == "confirm",
            owner_email=_staff_email(),
            note=data["note"],
        )
        return proposal


def init_api(app: Flask) -> Api:
    return init_service_api(
        app, "Cortesia training", [checks, playbooks, checker_settings, coaching_api]
    )
