"""Joint vs sequential intermediate-task fine-tuning for zero-shot cross-lingual SRL.

The package is organised by job: ``paths`` (where things live), ``config`` (validated params),
``bundle`` (the read-only data bundle), ``encoder`` (the offline multilingual encoder and hub
loading), ``provenance`` (what every result carries) and ``cli`` (the ``study`` command).
"""

__version__ = "0.1.0"
