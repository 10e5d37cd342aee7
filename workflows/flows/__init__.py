from .case_flow import CaseFlow

__all__ = ["CaseFlow"]
