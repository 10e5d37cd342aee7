"""The viewflow flows: case_flow.CaseFlow, review_flow.ReviewFlow.

The package itself imports nothing, so that the stage policy table (flows.stages) can be read
from below the flows. Each flow registers itself with services.transitions.flow_register when
its module is imported; WorkflowsConfig.ready imports them all.
"""
