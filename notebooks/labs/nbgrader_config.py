"""nbgrader configuration of the httpslab labs course (this directory is the course root).

Run nbgrader commands from this directory (or pass ``--CourseDirectory.root=notebooks/labs``).
See README.md for the whole workflow, locally and on JupyterHub.
"""

c = get_config()  # noqa: F821 — nbgrader provides get_config when it loads this file

# The course: one id, used by the exchange to keep courses apart on a shared JupyterHub.
c.CourseDirectory.course_id = "httpslab"
# source/<lab>/<lab>.ipynb -> release/<lab>/<lab>.ipynb (what students get).
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook is <root>/gradebook.db (nbgrader's default; git-ignored, it holds grades).

# Labs, in order (nbgrader db assignment add / formgrader show them like this).
c.CourseDirectory.db_assignments = [
    {"name": "lab1_prf"},
    {"name": "lab2_rsa"},
    {"name": "lab3_dh"},
    {"name": "lab4_record"},
    {"name": "lab5_certificates"},
]

# What replaces a solution in the student release.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Grading runs every submission in a fresh kernel. A cell that runs longer than this many
# seconds (a learner's infinite loop, a handshake that never finishes) is interrupted and
# scores zero; grading then goes on with the next cell and the next student. Each real
# handshake in the labs takes well under a second.
c.Execute.timeout = 20
c.Execute.interrupt_on_timeout = True
# Give up on a kernel that does not start (a broken environment) instead of hanging.
c.Execute.startup_timeout = 60

# On JupyterHub with nbgrader's exchange (see README.md), uncomment and set the shared root:
# c.Exchange.root = "/srv/nbgrader/exchange"
