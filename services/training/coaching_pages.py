"""The owner's coaching pages: the team at a glance, and per staff member the findings
over time, the customers' ratings, SLA adherence, low ratings with the rules broken in
that ticket, and the revocation proposals to decide."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for

from services.training import charts, coaching
from services.training.portal import staff_language
from services.training.staff_words import say
from shared.db import Database
from shared.web import current_staff, roles_required

coaching_pages = Blueprint(
    "coaching", __name__, url_prefix="/coaching", template_folder="templates"
)


def _database() -> Database:
    database: Database = current_app.extensions["cortesia.database"]
    return database


@coaching_pages.get("/")
@roles_required()
def team() -> Any:
    with _database().transaction() as session:
        team = coaching.team_coaching(session)
        proposals = coaching.open_proposals(session)
        names = {member.member.staff_id: member.member.name for member in team}
        return render_template(
            "training/coaching_team.html",
            team=team,
            proposals=proposals,
            names=names,
            lang=staff_language(),
        )


@coaching_pages.get("/<int:staff_id>")
@roles_required()
def member(staff_id: int) -> Any:
    with _database().transaction() as session:
        try:
            view = coaching.staff_coaching(session, staff_id)
        except coaching.NotFound as missing:
            abort(404, description=str(missing.args[0]))
        labels = [week.starts_on.strftime("%d/%m") for week in view.weeks]
        findings = [
            charts.Series(rule, [week.findings.get(rule, 0) for week in view.weeks])
            for rule in view.rules
        ]
        return render_template(
            "training/coaching_member.html",
            view=view,
            findings_chart=charts.stacked_bars(
                say("chart.findings", name=view.member.name), labels, findings
            ),
            findings_legend=charts.legend(findings),
            rating_chart=charts.line(
                say("chart.rating"),
                labels,
                charts.Series("rating", [week.average_rating for week in view.weeks]),
                top_value=5,
            ),
            sla_chart=charts.line(
                say("chart.sla"),
                labels,
                charts.Series(
                    "SLA",
                    [
                        None if week.sla_adherence is None else 100 * week.sla_adherence
                        for week in view.weeks
                    ],
                ),
                top_value=100,
                unit="%",
            ),
            lang=staff_language(),
        )


@coaching_pages.post("/proposals/<int:proposal_id>")
@roles_required()
def decide(proposal_id: int) -> Any:
    decision = request.form.get("decision")
    if decision not in ("confirm", "dismiss"):
        abort(400, description=say("said.decide_how"))
    staff = current_staff()
    assert staff is not None
    try:
        with _database().transaction() as session:
            proposal = coaching.decide(
                session,
                proposal_id,
                confirm=decision == "confirm",
                owner_email=staff.email,
                note=request.form.get("note"),
            )
            staff_id = proposal.staff_id
    except coaching.NotFound as missing:
        abort(404, description=str(missing.args[0]))
    except coaching.CoachingError as refused:
        flash(str(refused))
        return redirect(request.referrer or url_for("coaching.team"), 303)
    flash(say("said.confirmed" if decision == "confirm" else "said.dismissed"))
    return redirect(url_for("coaching.member", staff_id=staff_id), 303)
