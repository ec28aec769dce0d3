"""Level paths, conversions, rules and matching between frameworks, systems and institutions."""
