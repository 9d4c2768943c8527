"""Imports every model module so that `db.metadata` holds the whole schema."""

from portal.auth.models import Role, User  # noqa: F401
from portal.masterdata.models import (  # noqa: F401
    FaultCode,
    LaborOperation,
    Organisation,
    Part,
    PartPrice,
    Station,
    Supplier,
    Vehicle,
    VehicleModel,
    WarrantyPolicy,
)
