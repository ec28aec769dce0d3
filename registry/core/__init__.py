"""The Flask-free kernel: database base classes, domain errors, text folding, audit, permissions."""
