"""The indicator center (指标中心): KPIs computed from the engine's recorded events and task rows.

Reads only; never changes a case. See README, "Indicators".
"""
