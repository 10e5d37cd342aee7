"""The intelligence app's tables, one module per concern; re-exported here for Django."""

from .alerts import BreachPrediction, HotspotAlert, HotspotStatus

__all__ = ["BreachPrediction", "HotspotAlert", "HotspotStatus"]
