"""One module per intermediate task, each defining ``SPEC`` (a :class:`study.tasks.spec.TaskSpec`).

:mod:`study.tasks.registry` imports every module here, so adding a task is adding one file.
"""
