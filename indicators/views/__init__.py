"""The indicator center's pages (interfaces: parse the request, call reports, render)."""
