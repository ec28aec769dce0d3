"""Cross-border credential recognition and transfer registry."""
