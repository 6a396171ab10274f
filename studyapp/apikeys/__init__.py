"""Per-student API keys: only a hash and a visible prefix are stored; the secret is shown once."""
