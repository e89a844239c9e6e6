// A worker whose script allows a scope above its own directory.
