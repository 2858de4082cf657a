"""The thread limit of a training or inference loop, chosen by measuring.

Results never depend on the thread count (every kernel is deterministic), so the loop is
free to pick, chunk by chunk, whichever limit runs faster *now*. On an idle machine that
is usually every core; on a machine whose cores are busy with other processes (a CI
runner, a notebook server, a Dask worker) a team has to wait until each member is
scheduled, and one thread can be several times faster. The advisor times both and keeps
the faster, trying the other again now and then, since the load changes.
"""

import time

from .. import _config


class ThreadAdvisor:
    """Picks the thread limit of each chunk of steps from measured seconds per step.

    Parameters
    ----------
    max_threads : int
        :func:`fastembed.get_num_threads` when the loop starts.
    retry_every : int, default 8
        After settling, every this many chunks the other limit is timed again.
    """

    def __init__(self, max_threads, retry_every=8):
        self.max_threads = max(1, int(max_threads))
        # One thread is timed first: on a busy machine a team's first chunk is the costly one.
        self.candidates = [1, self.max_threads] if self.max_threads > 1 and _config.OPENMP else [1]
        self.retry_every = retry_every
        self.seconds_per_step = {}
        self.chunks = 0
        self._current = self.candidates[0]

    def limit(self):
        """The limit for the next chunk."""
        untried = [n for n in self.candidates if n not in self.seconds_per_step]
        if untried:
            self._current = untried[0]
        elif len(self.candidates) > 1 and self.chunks % self.retry_every == self.retry_every - 1:
            best = self.best()
            self._current = next(n for n in self.candidates if n != best)
        else:
            self._current = self.best()
        return self._current

    def best(self):
        """The fastest limit measured so far (one thread before any timing)."""
        if not self.seconds_per_step:
            return self.candidates[0]
        return min(self.seconds_per_step, key=self.seconds_per_step.get)

    def record(self, limit, seconds, steps):
        """Take the time of a chunk: a moving average per limit, so that a change of load
        shows within a few chunks."""
        self.chunks += 1
        if steps <= 0:
            return
        value = seconds / steps
        previous = self.seconds_per_step.get(limit)
        self.seconds_per_step[limit] = value if previous is None else 0.5 * previous + 0.5 * value

    def timed(self, run, steps_wanted):
        """Run ``run(limit)`` (which returns the steps it ran) under the chosen limit and
        record its time; return what ``run`` returned."""
        limit = self.limit()
        started = time.perf_counter()
        result = run(limit)
        self.record(limit, time.perf_counter() - started, getattr(result, "steps", steps_wanted))
        return result
