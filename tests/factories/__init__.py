"""Test data: factory_boy factories on the test's session (flushed, rolled back with the test).

- `masterdata`: organisations, stations, suppliers, vehicle models, policies, vehicles, parts,
  prices, fault codes, labor operations;
- `users`: a user per role (`UserFactory(auditor=True)`);
- `world`: `World` (two stations, two suppliers, a user per role) and `Fleet` (the vehicles,
  parts and codes claims need), and `claim_payload`;
- `claims`: `ClaimFactory` with a trait per state, reached through the real workflow;
- `settlement`: `SettlementRunFactory`, drafted or released;
- `campaigns`: `CampaignFactory`, a recall or service campaign with its package and vehicles.
"""

from tests.factories.base import PASSWORD, test_password_hash
from tests.factories.campaigns import CampaignFactory
from tests.factories.claims import ClaimFactory, old_parts
from tests.factories.masterdata import (
    FaultCodeFactory,
    LaborOperationFactory,
    OemFactory,
    PartFactory,
    PartPriceFactory,
    StationFactory,
    SupplierFactory,
    VehicleFactory,
    VehicleModelFactory,
    WarrantyContractFactory,
    WarrantyPolicyFactory,
)
from tests.factories.settlement import SettlementRunFactory
from tests.factories.users import UserFactory, users
from tests.factories.world import Fleet, World, claim_payload

__all__ = [
    "PASSWORD",
    "CampaignFactory",
    "ClaimFactory",
    "FaultCodeFactory",
    "Fleet",
    "LaborOperationFactory",
    "OemFactory",
    "PartFactory",
    "PartPriceFactory",
    "SettlementRunFactory",
    "StationFactory",
    "SupplierFactory",
    "UserFactory",
    "VehicleFactory",
    "VehicleModelFactory",
    "WarrantyContractFactory",
    "WarrantyPolicyFactory",
    "World",
    "claim_payload",
    "old_parts",
    "test_password_hash",
    "users",
]
