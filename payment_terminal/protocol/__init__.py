"""Sans-IO ZVT protocol core: APDUs, BMP fields, TLV, the command table, the ECR state machine."""
