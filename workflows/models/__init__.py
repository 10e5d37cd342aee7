from .cases import (
    ArchiveType,
    Attachment,
    Case,
    CaseSequence,
    CaseStatus,
    PhotoKind,
    Source,
    Stage,
)
from .categories import Category, CategoryKind, CategoryScheme, LimitUnit, Urgency
from .events import CaseEvent
from .integrations import (
    ApiKey,
    IdempotencyRecord,
    Scope,
    WebhookDelivery,
    WebhookSubscription,
)
from .routing import RoutingRule
from .search import SavedCaseFilter
from .sla import (
    CaseRequest,
    Notification,
    OrderStatus,
    OutboxMessage,
    PauseInterval,
    PauseReason,
    RequestKind,
    RequestStatus,
    SupervisionOrder,
    ThresholdRule,
)
from .tasks import CaseTask, TaskStatus

__all__ = [
    "ApiKey",
    "ArchiveType",
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseRequest",
    "CaseSequence",
    "CaseStatus",
    "CaseTask",
    "Category",
    "CategoryKind",
    "CategoryScheme",
    "IdempotencyRecord",
    "LimitUnit",
    "Notification",
    "OrderStatus",
    "OutboxMessage",
    "PauseInterval",
    "PauseReason",
    "PhotoKind",
    "RequestKind",
    "RequestStatus",
    "RoutingRule",
    "SavedCaseFilter",
    "Scope",
    "Source",
    "Stage",
    "SupervisionOrder",
    "TaskStatus",
    "ThresholdRule",
    "Urgency",
    "WebhookDelivery",
    "WebhookSubscription",
]
