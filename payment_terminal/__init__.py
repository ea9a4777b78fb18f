"""ZVT card terminal library: protocol core, transports, ECR session, simulator."""
