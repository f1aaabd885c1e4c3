"""What the training loops share (the mini-batch trainer, the episode loop): running their units —
epochs, episodes — until done, stopped by a callback, or interrupted by Ctrl-C or SIGTERM at the
next boundary they can resume from (a mini-batch, an episode), with the callbacks told."""

from __future__ import annotations

import signal
from contextlib import contextmanager
from typing import Any, Callable, Iterator


def fit(state: Any, units: int, run_unit: Callable[[], None], call: Callable[[str], None]) -> Any:
    """Run `run_unit` until `state.epoch` reaches `units`, a callback stops the loop or training is
    finished; the callbacks' on_train_begin and on_train_end around it (`call(hook)`). The status
    ends `completed` unless something else set it; an error leaves it `failed` and goes on up."""
    call("on_train_begin")
    try:
        with stop_on_interrupt(state):
            while state.epoch < units and not state.stop and not state.finished:
                run_unit()
    except BaseException as error:
        state.status, state.message = "failed", f"{type(error).__name__}: {error}"
        call("on_train_end")
        raise
    if state.status == "running":
        state.status, state.finished = "completed", True
    call("on_train_end")
    return state


@contextmanager
def stop_on_interrupt(state: Any) -> Iterator[None]:
    """First Ctrl-C or SIGTERM: set `state.stop` and status `interrupted`, for the loop to finish
    its current batch or episode and stop (the checkpoint is written). A second one stops at once:
    KeyboardInterrupt, which leaves the last checkpoint as it was for the run's summary to point to.
    `state` has `stop`, `status` and `message` (a TrainState, an EpisodeState)."""
    signals = (signal.SIGINT, signal.SIGTERM)

    def request_stop(signum, frame):
        how = "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name
        if state.stop and state.status == "interrupted":
            raise KeyboardInterrupt(
                f"stopped at once by a second {how}; continue from the last checkpoint with "
                "`dnnexp train --resume RUN_DIR`"
            )
        state.stop, state.status = True, "interrupted"
        state.message = f"interrupted by {how}; continue with `dnnexp train --resume RUN_DIR`"

    try:
        previous = {number: signal.signal(number, request_stop) for number in signals}
    except ValueError:  # not the main thread: leave the signals alone
        yield
        return
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
