"""Open311 GeoReport v2 at /open311/v2/: discovery, services, service definitions, requests
(read publicly, report with an API key) and tokens, in JSON and XML."""
