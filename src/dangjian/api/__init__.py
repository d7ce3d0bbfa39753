"""The HTTP API under /api/ (django-ninja): per-account tokens, one schema per resource, OpenAPI at /api/openapi.json."""
