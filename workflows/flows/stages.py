"""What each stage of the standard flow is: its role, where its task lives, its outcomes."""

from __future__ import annotations

from dataclasses import dataclass

from departments.models import Role

from ..models import Stage
from ..models.hotline import HOTLINE_POLICIES


@dataclass(frozen=True)
class Outcome:
    name: str
    requires: tuple[str, ...] = ()  # fields the actor must give


@dataclass(frozen=True)
class StagePolicy:
    role: str
    lives_in: str  # "centre" | "area" | "responsible": which unit holds the task
    outcomes: tuple[Outcome, ...]

    def outcome(self, name: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.name == name), None)

    @property
    def outcome_names(self) -> list[str]:
        return [o.name for o in self.outcomes]


STAGES: dict[str, StagePolicy] = {
    Stage.INTAKE: StagePolicy(
        Role.INTAKE,
        "centre",
        (
            Outcome("accept"),
            Outcome("invalid", ("reason",)),
            Outcome("duplicate", ("duplicate_of",)),
            Outcome("verify"),
            # A citizen's request that is no city-management matter: a 12345 order (转12345).
            Outcome("to_hotline", ("hotline_category", "request_type")),
        ),
    ),
    Stage.VERIFY: StagePolicy(Role.INSPECTOR, "area", (Outcome("verified", ("result",)),)),
    Stage.FILING: StagePolicy(
        Role.SHIFT_LEADER,
        "centre",
        (
            Outcome("file"),
            Outcome("refuse", ("reason",)),
        ),
    ),
    Stage.DISPATCH: StagePolicy(Role.DISPATCHER, "centre", (Outcome("dispatch"),)),
    Stage.HANDLING: StagePolicy(
        Role.HANDLER,
        "responsible",
        (
            Outcome("done", ("result",)),
            Outcome("return", ("reason",)),
        ),
    ),
    Stage.RETURN_REVIEW: StagePolicy(
        Role.SHIFT_LEADER,
        "centre",
        (
            Outcome("approve"),
            Outcome("reject", ("reason",)),
        ),
    ),
    Stage.CHECK: StagePolicy(
        Role.INSPECTOR,
        "area",
        (
            Outcome("pass"),
            Outcome("fail", ("reason",)),
        ),
    ),
    Stage.CLOSING: StagePolicy(Role.SHIFT_LEADER, "centre", (Outcome("close"),)),
    # Review tasks (ReviewFlow); the extension reviewer's role is set per request.
    Stage.EXTENSION_REVIEW: StagePolicy(
        Role.SHIFT_LEADER, "centre", (Outcome("approve"), Outcome("reject", ("reason",)))
    ),
    Stage.PARKING_REVIEW: StagePolicy(
        Role.SHIFT_LEADER, "centre", (Outcome("approve"), Outcome("reject", ("reason",)))
    ),
    Stage.PARKED: StagePolicy(Role.SHIFT_LEADER, "centre", (Outcome("resume"),)),
}

# The 12345 hotline flow (flows.hotline): its policies are in models.hotline (read there by
# the hotline services without importing the flows package).
STAGES.update(
    {
        stage: StagePolicy(role, lives_in, tuple(Outcome(n, r) for n, r in outcomes))
        for stage, (role, lives_in, outcomes) in HOTLINE_POLICIES.items()
    }
)

# Stages outside the main flow: they leave the case's stage as it is.
REVIEW_STAGES = (Stage.EXTENSION_REVIEW, Stage.PARKING_REVIEW, Stage.PARKED)

# Outcomes that end the case, and the status they leave it in.
ENDING_OUTCOMES = {
    "invalid": "invalid",
    "duplicate": "duplicate",
    "refuse": "refused",
    "to_hotline": "invalid",  # not accepted here: the hotline order carries it on
    "close": "closed",
}
