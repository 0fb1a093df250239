"""Schemas of every event on the bus, one class per versioned event type.

A breaking change is a new version registered beside the old one; both are
published until every consumer has moved.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.events.registry import REGISTRY

STAFF_ROLES = ("owner", "agent", "billing", "trainee")


@REGISTRY.register("tickets.staff_added.v1")
class StaffAddedV1(Schema):
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)
    role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))


@REGISTRY.register("tickets.staff_role_changed.v1")
class StaffRoleChangedV1(Schema):
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
    old_role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    new_role = fields.String(required=True, validate=validate.OneOf(STAFF_ROLES))


@REGISTRY.register("tickets.staff_removed.v1")
class StaffRemovedV1(Schema):
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1))
