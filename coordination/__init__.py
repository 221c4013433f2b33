import os

# The engines (numpy, scipy, HiGHS) run in many processes at once: web workers and Celery
# workers, one task each. A BLAS that also starts a thread per core for every small
# matrix makes those processes fight over the cores: measuring a product line's
# promotions took 2.7x as long with OpenBLAS's default threads on a busy 2-core box. So
# each process computes on one thread, and more work runs in more processes; set these
# variables to override. This must run before numpy is first imported.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

# Load the Celery app whenever Django starts, so @shared_task binds to it.
from coordination.celery import app as celery_app  # noqa: E402

__all__ = ("celery_app",)
