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
