"""Test work directories: kept when a check fails (to look at what it wrote), removed when it passes.

A full run of the suite writes ~15 GB of models, data and dumps (VGG-11's training-parity dumps alone
are 3 GB); a CI machine's disk may not hold that, and filled up once. Set FC_KEEP_TEST_WORKDIRS=1 to
keep passing checks' directories too.
"""
import os
import shutil

KEEP_ENV = "FC_KEEP_TEST_WORKDIRS"


def remove_after_pass(path):
    """Called by a check that passed: removes its work directory `path` unless FC_KEEP_TEST_WORKDIRS=1."""
    if os.environ.get(KEEP_ENV) != "1":
        shutil.rmtree(path, ignore_errors=True)
