"""Privacy rights: request deadlines, subject export, withdrawal and erasure."""
