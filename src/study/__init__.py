"""Joint vs sequential intermediate-task fine-tuning for zero-shot cross-lingual SRL.

One subpackage per step of the data flow: ``config`` (validated params and the grid), ``data``
(the bundle and its upstream sources), ``encoder``, ``tasks`` and ``intermediate`` (intermediate
training), ``target`` (English SRL and POS, zero-shot scoring), ``training`` (the engine),
``analysis`` (tests, tables, figures), ``orchestration`` (runs, notebooks, the grid), ``bench``,
``infra`` (paths, hashing, provenance, progress) and ``cli`` (the ``study`` command).
"""

import warnings

# tqdm.auto warns in notebooks without ipywidgets (a warning box in every report that loads a
# model); its text progress output is what the reports want, so the warning is noise
warnings.filterwarnings("ignore", message="IProgress not found")

__version__ = "0.1.0"
