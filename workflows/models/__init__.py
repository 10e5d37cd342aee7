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
from .routing import RoutingRule
from .sla import (
    Notification,
    OrderStatus,
    OutboxMessage,
    SupervisionOrder,
    ThresholdRule,
)
from .tasks import CaseTask, TaskStatus

__all__ = [
    "ArchiveType",
    "Attachment",
    "Case",
    "CaseEvent",
    "CaseSequence",
    "CaseStatus",
    "CaseTask",
    "Category",
    "CategoryKind",
    "CategoryScheme",
    "LimitUnit",
    "Notification",
    "OrderStatus",
    "OutboxMessage",
    "PhotoKind",
    "RoutingRule",
    "Source",
    "Stage",
    "SupervisionOrder",
    "TaskStatus",
    "ThresholdRule",
    "Urgency",
]
