"""Reads of the indicator center: periods, base counts and indicator values from the facts."""
