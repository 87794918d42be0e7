"""checks.py - the counting every script test shares: check() records one
assertion (printing what failed), and the counts give the closing line
"N passed, N failed" that ctest and CI read.  Python 3 stdlib only.

Usage in a test script (tests/<kind>/test_x.py):
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import checks
    from checks import check
    ...
    print("%d passed, %d failed" % (checks.PASSED, checks.FAILED))
"""

PASSED = 0
FAILED = 0


def check(cond, what, detail=""):
    """Counts one assertion; prints it when it fails.  Returns cond."""
    global PASSED, FAILED
    if cond:
        PASSED += 1
    else:
        FAILED += 1
        print("FAIL: %s%s" % (what, (" -- " + detail) if detail else ""))
    return cond


def script_args(tshark=False, driver=None, shared=None):
    """The arguments every script test takes (--binary PATH --source REPO_DIR),
    parsed.  Leaves with exit status 77 (skipped, with the reason) when tshark
    is wanted and not installed, or when `shared` (a folder under
    ../shared/pcaps) is wanted and absent; with 1 when the test driver named
    `driver` (tests/drivers, built next to the binary) is missing.  The
    driver's path is args.driver."""
    import argparse
    import os
    import shutil
    import sys
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    if shared:
        folder = os.path.join(os.path.abspath(args.source), "..", "shared", "pcaps", shared)
        if not os.path.isdir(folder):
            print("SKIP: %s not present" % folder)
            print("0 passed, 0 failed")
            sys.exit(77)
    if tshark and not shutil.which("tshark"):
        print("SKIP: tshark not installed")
        print("0 passed, 0 failed")
        sys.exit(77)
    args.driver = None
    if driver:
        args.driver = os.path.join(os.path.dirname(os.path.abspath(args.binary)), driver)
        if not os.path.exists(args.driver):
            print("FAIL: %s not built" % args.driver)
            sys.exit(1)
    return args
