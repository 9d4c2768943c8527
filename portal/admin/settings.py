"""The rules pages (admins only): auto-adjudication settings, reason codes and the settlement
settings (the VAT rate).

Each view loads, checks (the role gate; admins may change any rule), calls one operation from
`portal.admin.operations` and commits once. A refused change saves nothing and shows its
problems beside the fields.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import operations
from portal.admin.blueprint import bp
from portal.admin.forms import (
    FLAG_RULE_LABELS,
    ClaimSettingsForm,
    DecisionTargetForm,
    ReasonCodeForm,
    ReasonCodeLabelsForm,
    SettlementSettingsForm,
)
from portal.admin.lists import REASON_CODES
from portal.auth.models import Role
from portal.auth.permissions import role_required
from portal.claims.models import ALWAYS_BLOCKING, FLAG_RULES, ClaimSettings, ReasonCode
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.settlement.models import SettlementSettings
from portal.web import invalid_renders, one_or_404, page_action


def _shown_on(form, render):
    """A refused change: each problem beside its field (or in the message if it has none), and
    the page rendered again by `render()` (`page_action` rolled the change back)."""

    def refused(exc: ValidationFailed):
        unplaced = []
        for name, problem in exc.fields.items():
            field = getattr(form, name, None)
            if field is None:
                unplaced.append(problem)
            else:
                field.errors = [*field.errors, problem]
        flash(" ".join([exc.message, *unplaced]), "danger")
        return render()

    return refused


@bp.route("/rules", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@page_action
def rules():
    settings = ClaimSettings.current()
    form = ClaimSettingsForm(
        data={
            "auto_approve_enabled": settings.auto_approve_enabled,
            "auto_approve_threshold": settings.auto_approve_threshold,
            "blocking_rules": [
                r
                for r in settings.blocking_rules or []
                if r in FLAG_RULES and r not in ALWAYS_BLOCKING
            ],
        }
    )
    if form.validate_on_submit():
        with invalid_renders(_shown_on(form, lambda: _render_rules(form))):
            operations.update_claim_settings(
                current_user,
                enabled=form.auto_approve_enabled.data,
                threshold=form.auto_approve_threshold.data,
                blocking_rules=form.blocking_rules.data,
            )
        flash(
            _("Auto-adjudication settings saved by %(name)s.", name=current_user.username),
            "success",
        )
        return redirect(url_for("admin.rules"))
    if request.method == "POST":
        flash(_("The settings were not saved: correct the fields marked below."), "danger")
    return _render_rules(form)


@bp.route("/rules/decision-target", methods=["POST"])
@role_required(Role.ADMIN)
@page_action
def decision_target():
    """The auditors' decision target, in working days."""
    target = DecisionTargetForm()
    if not target.validate_on_submit():
        target.decision_target_days.errors = [
            _("must be a whole number of working days from %(low)d to %(high)d", low=1, high=60)
        ]
        return _render_rules(ClaimSettingsForm(formdata=None), target, status=422)
    with invalid_renders(
        _shown_on(
            target,
            lambda: _render_rules(ClaimSettingsForm(formdata=None), target, status=422),
        )
    ):
        operations.update_decision_target(current_user, target.decision_target_days.data)
    flash(
        _(
            "Decision target saved: %(n)d working days.",
            n=target.decision_target_days.data,
        ),
        "success",
    )
    return redirect(url_for("admin.rules"))


def _render_rules(
    form: ClaimSettingsForm, target: DecisionTargetForm | None = None, status: int = 200
):
    settings = ClaimSettings.current()  # what is in force, whatever the form shows
    options = {option.data: option for option in form.blocking_rules}
    if target is None:
        target = DecisionTargetForm(
            formdata=None, data={"decision_target_days": settings.decision_target_days}
        )
    return render_template(
        "admin/rules.html",
        target=target,
        form=form,
        settings=settings,
        flag_rules=FLAG_RULES,
        always_blocking=ALWAYS_BLOCKING,
        rule_labels=FLAG_RULE_LABELS,
        options=options,
    ), status


def _get_reason_code(code: str) -> ReasonCode:
    return one_or_404(sa.select(ReasonCode).where(ReasonCode.code == code))


@bp.route("/rules/reason-codes", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@page_action
def reason_codes():
    form = ReasonCodeForm()
    if form.validate_on_submit():
        with invalid_renders(_shown_on(form, lambda: _render_reason_codes(form))):
            added = operations.add_reason_code(
                current_user, form.code.data, form.label_en.data, form.label_zh.data
            )
        flash(_("Reason code %(code)s added.", code=added.code), "success")
        return redirect(url_for("admin.reason_codes"))
    if request.method == "POST":
        flash(_("The reason code was not added: correct the fields marked below."), "danger")
    return _render_reason_codes(form)


def _render_reason_codes(form: ReasonCodeForm):
    # Active codes first, each group by code, unless a column is chosen (admin.lists).
    shown = REASON_CODES.shown(request.args)
    codes = REASON_CODES.sort_rows(db.session.scalars(sa.select(ReasonCode)), shown.sort)
    if shown.export_format and request.method == "GET":
        return REASON_CODES.export_records(codes, shown.export_format, "reason-codes")
    return render_template("admin/reason_codes.html", form=form, codes=codes, shown=shown)


@bp.route("/rules/reason-codes/<code>", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@page_action
def reason_code_edit(code: str):
    reason_code = _get_reason_code(code)
    form = ReasonCodeLabelsForm(obj=reason_code)

    def render():
        return render_template("admin/reason_code_form.html", form=form, reason_code=reason_code)

    if form.validate_on_submit():
        with invalid_renders(_shown_on(form, render)):
            operations.edit_reason_code(
                current_user, reason_code, form.label_en.data, form.label_zh.data
            )
        flash(_("Reason code %(code)s saved.", code=reason_code.code), "success")
        return redirect(url_for("admin.reason_codes"))
    return render()


@bp.route("/rules/reason-codes/<code>/active", methods=["POST"])
@role_required(Role.ADMIN)
@page_action
def reason_code_set_active(code: str):
    reason_code = _get_reason_code(code)
    active = request.form.get("active") == "1"
    operations.set_reason_code_active(current_user, reason_code, active)
    if active:
        flash(_("Reason code %(code)s can be given again.", code=reason_code.code), "success")
    else:
        flash(
            _(
                "Reason code %(code)s is deactivated: auditors can no longer give it; lines "
                "decided with it keep it.",
                code=reason_code.code,
            ),
            "success",
        )
    return redirect(url_for("admin.reason_codes"))


@bp.route("/rules/settlement", methods=["GET", "POST"])
@role_required(Role.ADMIN)
@page_action
def settlement_rules():
    settings = SettlementSettings.current()
    form = SettlementSettingsForm(data={"vat_percent": settings.vat_rate * 100})

    def render():
        return render_template(
            "admin/settlement_settings.html", form=form, settings=SettlementSettings.current()
        )

    if form.validate_on_submit():
        with invalid_renders(_shown_on(form, render)):
            operations.update_settlement_settings(current_user, vat_percent=form.vat_percent.data)
        flash(_("Settlement settings saved by %(name)s.", name=current_user.username), "success")
        return redirect(url_for("admin.settlement_rules"))
    if request.method == "POST":
        flash(_("The settings were not saved: correct the fields marked below."), "danger")
    return render()
