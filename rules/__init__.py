"""The built-in peak-season rule pack: one rule per module, id = module name.

Modules starting with an underscore are helpers, not rules.
"""
