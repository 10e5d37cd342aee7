"""The intelligence app's tables, one module per concern; re-exported here for Django."""
