"""The one waiting primitive for tests: poll a check until it passes or the budget runs out.

``check`` returns None on success or a string saying what is still wrong (FRR
``run_and_expect`` semantics), so a timeout reports the last diagnosis instead of "False".
"""

from __future__ import annotations

import time
from collections.abc import Callable


class WaitTimeout(AssertionError):
    pass


def wait_until(
    check: Callable[[], str | None],
    *,
    timeout: float = 15.0,
    interval: float = 0.1,
    what: str = "condition",
) -> None:
    """Poll ``check`` until it returns None.

    Raises:
        WaitTimeout: with the last diagnosis when ``timeout`` seconds pass.
    """
    deadline = time.monotonic() + timeout
    last: str | None = "never checked"
    while True:
        last = check()
        if last is None:
            return
        if time.monotonic() >= deadline:
            raise WaitTimeout(f"{what} not reached within {timeout:.0f}s: {last}")
        time.sleep(interval)
