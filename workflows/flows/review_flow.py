"""Reviews beside the case flow: extension requests (延期) and parking (挂账).

Each request is a small process of its own whose tasks are indexed like any other (same case,
same lists); the services take the case's main process lock for every change, so a review and
the case's own tasks never change at the same time.
"""

from viewflow import this

from ..services.transitions import flow_register
from .base import CityFlow, step
from .nodes import Begin, Finish


@flow_register("review")
class ReviewFlow(CityFlow):
    process_title = "Review"

    start_extension = Begin(this.start_review).Next(this.extension_review)
    extension_review = step().Otherwise(this.end)

    start_parking = Begin(this.start_review).Next(this.parking_review)
    parking_review = step().Route(approve=this.parked).Otherwise(this.end)
    parked = step().Otherwise(this.end)

    end = Finish()

    def start_review(self, activation, case, request, role=None, unit_id=None):
        activation.process.data = {
            "case": case.pk,
            "request": request.pk,
            "role": role,
            "unit": unit_id,
        }
        activation.process.cityops_case = case
        return activation.process
