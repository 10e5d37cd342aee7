"""The intelligence app's tables, one module per concern; re-exported here for Django."""

from .alerts import BreachPrediction, HotspotAlert, HotspotStatus
from .history import ImportedCase
from .suggestions import SuggestionLog, SuggestionModel, Surface, Taken

__all__ = [
    "BreachPrediction",
    "HotspotAlert",
    "HotspotStatus",
    "ImportedCase",
    "SuggestionLog",
    "SuggestionModel",
    "Surface",
    "Taken",
]
