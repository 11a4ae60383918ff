"""Partner Network: share leads, contacts and documents with partners."""
