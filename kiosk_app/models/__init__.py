"""Database models, one module per feature. Importing this package registers every table."""

from kiosk_app.models import charging, ocpi, operator, receipts, reconciliation  # noqa: F401
