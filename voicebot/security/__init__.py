"""Small security helpers every layer may use (stdlib only): masking, export cells, peers, secrets."""
