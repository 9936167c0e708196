"""The ids of the tasks built into the binary, generated from its catalogue
(a Rust test, ``python_catalogue_is_the_builtin_one``, keeps this file in step
and prints it when it is not)."""

BUILTIN_TASKS = (
    "task_001",
    "task_002",
    "task_003",
    "task_004",
    "task_005",
    "task_006",
    "task_007",
    "task_008",
    "task_009",
    "task_010",
    "task_011",
    "task_012",
    "task_013",
    "task_014",
    "task_015",
    "task_016",
    "task_017",
    "task_018",
    "task_019",
    "task_020",
    "task_021",
    "task_022",
    "task_023",
    "task_024",
    "task_025",
    "task_026",
    "task_027",
)
