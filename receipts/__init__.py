"""Receipt library: model, country profiles, VAT, PDF, QR, OCMF, journal."""
