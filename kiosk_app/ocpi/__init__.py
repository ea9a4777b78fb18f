"""OCPI: objects, transport, the client toward the CPO, the receiver for its pushes, payments
(2.3.0 PTP) and the CPO simulator. Pricing lives in `kiosk_app.ocpi.pricing`."""
