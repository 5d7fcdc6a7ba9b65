"""Semantic role labelling: the study's target task.

``conllu`` reads and writes the CoNLL-U Plus files (13-column UP 2.0 / English, 10-column gold),
``labels`` holds the label inventory and the policy for the known malformed labels, ``scope``
decides which predicates are trained and scored, ``metrics`` scores predictions.
"""
