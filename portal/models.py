"""Imports every model module so that `db.metadata` holds the whole schema."""

from portal.analysis.models import EarlyWarning  # noqa: F401
from portal.announcements.models import Announcement, AnnouncementRead  # noqa: F401
from portal.auditlog.models import AuditEntry  # noqa: F401
from portal.auth.models import ApiToken, Role, User, UserSession  # noqa: F401
from portal.claims.models import (  # noqa: F401
    Attachment,
    Claim,
    ClaimComment,
    ClaimEvent,
    ClaimFlag,
    ClaimLine,
    ClaimSequence,
    ClaimSettings,
    ClaimVersion,
    ReasonCode,
)
from portal.masterdata.campaigns import (  # noqa: F401
    Campaign,
    CampaignEvent,
    CampaignPart,
    CampaignVehicle,
)
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
    WarrantyContract,
    WarrantyPolicy,
)
from portal.notifications.models import Notification  # noqa: F401
from portal.oldparts.models import (  # noqa: F401
    OldPart,
    OldPartEvent,
    ReturnShipment,
    StationCharge,
)
from portal.settlement.models import (  # noqa: F401
    Adjustment,
    Chargeback,
    ChargebackEvent,
    ChargebackEvidence,
    SettlementRun,
    SettlementSettings,
    Statement,
    StatementLine,
)
