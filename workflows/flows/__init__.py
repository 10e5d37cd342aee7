from .case_flow import CaseFlow
from .review_flow import ReviewFlow

__all__ = ["CaseFlow", "ReviewFlow"]
