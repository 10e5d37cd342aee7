"""Intelligence learned from the city's own history: dispatch suggestions (智能分派), breach
prediction (智能预警) and hotspot alerts. Reads cases and events; never changes a case inside
a transition, and never takes the process lock."""
