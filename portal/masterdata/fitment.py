"""Which vehicle models a part fits (适用车型): one record at a time, as the `part_models` import
does in bulk. A part with no model listed fits every model. Operations flush, never commit."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portal.auditlog.operations import AuditKind, record
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.masterdata.models import Part, PartModel, VehicleModel

if TYPE_CHECKING:  # the acting user; master data sits below the accounts
    from portal.auth.models import User

log = logging.getLogger(__name__)


def models_of(part_ids: set[int]) -> dict[int, set[int]]:
    """Part id -> the ids of the models it is listed for (parts listed for none are absent)."""
    if not part_ids:
        return {}
    fits: dict[int, set[int]] = {}
    for part_id, model_id in db.session.execute(
        sa.select(PartModel.part_id, PartModel.model_id).where(PartModel.part_id.in_(part_ids))
    ):
        fits.setdefault(part_id, set()).add(model_id)
    return fits


def add_model(user: User, part: Part, model_code: str) -> PartModel:
    """List `part` for the model `model_code`."""
    model = db.session.scalar(sa.select(VehicleModel).where(VehicleModel.code == model_code))
    if model is None:
        raise ValidationFailed(
            str(_l("The model was not added.")),
            {
                "model": str(
                    _l('there is no vehicle model with the code "%(value)s"', value=model_code)
                )
            },
        )
    if any(fit.model_id == model.id for fit in part.fits):
        raise ValidationFailed(
            str(_l("The model was not added.")),
            {"model": str(_l("%(model)s is listed already", model=model.code))},
        )
    fit = PartModel(part=part, model=model)
    db.session.add(fit)
    db.session.flush()
    record(
        AuditKind.MASTERDATA_CREATED,
        user,
        subject=f"part_models {part.number},{model.code}",
        after={"part": part.number, "model": model.code},
    )
    log.info("part %s listed for model %s by %s", part.number, model.code, user.username)
    return fit


def remove_model(user: User, part: Part, model_id: int) -> None:
    """Take the model off the part's list (a part left with none fits every model)."""
    fit = next((f for f in part.fits if f.model_id == model_id), None)
    if fit is None:
        raise ValidationFailed(str(_l("The part is not listed for that model.")))
    record(
        AuditKind.MASTERDATA_REMOVED,
        user,
        subject=f"part_models {part.number},{fit.model.code}",
        before={"part": part.number, "model": fit.model.code},
    )
    part.fits.remove(fit)
    db.session.flush()
    log.info("part %s no longer listed for model %s by %s", part.number, model_id, user.username)
