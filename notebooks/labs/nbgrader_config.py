"""nbgrader configuration of the httpslab labs course (this directory is the course root).

Run nbgrader commands from this directory (or pass ``--CourseDirectory.root=notebooks/labs``).
See README.md for the whole workflow, locally and on JupyterHub.
"""

import os
import sysconfig

c = get_config()  # noqa: F821 — nbgrader provides get_config when it loads this file

# nbgrader starts `alembic` by name to create the gradebook: find it beside the Python that
# runs nbgrader (`.venv/bin/nbgrader` without an activated environment), never elsewhere on PATH.
_scripts = sysconfig.get_path("scripts")
if _scripts not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = os.pathsep.join([_scripts, os.environ.get("PATH", "")]).rstrip(os.pathsep)

# The course: one id, used by the exchange to keep courses apart on a shared JupyterHub.
c.CourseDirectory.course_id = "httpslab"
# source/<lab>/<lab>.ipynb -> release/<lab>/<lab>.ipynb (what students get).
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook is <root>/gradebook.db (nbgrader's default; git-ignored, it holds grades).

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

# The exchange (release, fetch, submit, collect): a folder of this course for a class without
# JupyterHub, so nbgrader never looks for an unwritable /srv/nbgrader/exchange. On JupyterHub
# (see README.md) set the shared root instead: c.Exchange.root = "/srv/nbgrader/exchange".
c.Exchange.root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exchange")
if not os.path.isdir(c.Exchange.root):
    os.makedirs(c.Exchange.root)
    os.chmod(c.Exchange.root, 0o777)  # the mode nbgrader requires of an exchange (it warns otherwise)
