from .history import ImportedCase
from .suggestions import SuggestionLog, SuggestionModel, Surface, Taken

__all__ = ["ImportedCase", "SuggestionLog", "SuggestionModel", "Surface", "Taken"]
