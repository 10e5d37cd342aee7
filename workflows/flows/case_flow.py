"""The standard case flow (数字城管): report → intake → filing → dispatch → handling → check →
closing, with verification, returns and rework as loops.

The graph only routes. Every transition is started by a service in workflows.services, which
checks access, records the outcome on the process (read by `Step` to pick the next node) and
writes the audit event; the nodes' callbacks call services and nothing else.
"""

from viewflow import this

from ..services.transitions import flow_register
from .base import CityFlow, step
from .nodes import Begin, Finish


@flow_register("case")
class CaseFlow(CityFlow):
    process_title = "Case"

    start = Begin(this.start_case).Next(this.intake)

    intake = step().Route(accept=this.filing, verify=this.verify).Otherwise(this.end)
    verify = step().Otherwise(this.intake)
    filing = step().Route(file=this.dispatch).Otherwise(this.end)
    dispatch = step().Otherwise(this.handling)
    handling = step().Route(done=this.check).Otherwise(this.return_review)
    return_review = step().Route(approve=this.dispatch).Otherwise(this.handling)
    check = step().Route(**{"pass": this.closing}).Otherwise(this.handling)
    closing = step().Otherwise(this.end)

    end = Finish()

    def start_case(self, activation, case, process_id=None):
        activation.process.pk = process_id  # reserved for it (services.transitions)
        activation.process.data = {"case": case.pk}
        activation.process.cityops_case = case
        return activation.process
