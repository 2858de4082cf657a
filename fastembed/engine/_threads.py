"""The thread limit of a training or inference loop, chosen by measuring.

Results never depend on the thread count (every kernel is deterministic), so the loop is
free to pick, chunk by chunk, whichever limit runs faster *now*. On an idle machine that
is usually every core; on a machine whose cores are busy with other processes (a CI
runner, a notebook server, a Dask worker) a team has to wait until each member is
scheduled, and one thread can be several times faster. The advisor times both and keeps
the faster, trying the other again now and then, since the load changes. Each time the
other loses again, the wait before the next try doubles (up to ``MAX_RETRY_EVERY``
chunks), so a machine that stays busy pays less and less for the trials; a win resets
the wait.
"""

import time

from .. import _config

MAX_RETRY_EVERY = 64  # chunks between trials of the slower limit, at most


class ThreadAdvisor:
    """Picks the thread limit of each chunk of steps from measured seconds per step.

    Parameters
    ----------
    max_threads : int
        :func:`fastembed.get_num_threads` when the loop starts.
    retry_every : int, default 8
        After settling, the other limit is timed again after this many chunks; after
        each trial it loses, twice as many.
    """

    def __init__(self, max_threads, retry_every=8):
        self.max_threads = max(1, int(max_threads))
        # One thread is timed first: on a busy machine a team's first chunk is the costly one.
        self.candidates = [1, self.max_threads] if self.max_threads > 1 and _config.OPENMP else [1]
        self.retry_every = retry_every
        self.wait = retry_every  # chunks before the next trial of the slower limit
        self.since_trial = 0
        self.seconds_per_step = {}
        self._current = self.candidates[0]
        self._trial = False

    def limit(self):
        """The limit for the next chunk."""
        untried = [n for n in self.candidates if n not in self.seconds_per_step]
        self._trial = False
        if untried:
            self._current = untried[0]
        elif len(self.candidates) > 1 and self.since_trial >= self.wait:
            best = self.best()
            self._current = next(n for n in self.candidates if n != best)
            self._trial = True
        else:
            self._current = self.best()
        return self._current

    def trial_pending(self):
        """True when the next chunk re-times the slower limit (the loop then makes that chunk
        short: on a busy machine the slower limit may be several times slower)."""
        untried = [n for n in self.candidates if n not in self.seconds_per_step]
        return not untried and len(self.candidates) > 1 and self.since_trial >= self.wait

    def best(self):
        """The fastest limit measured so far (one thread before any timing)."""
        if not self.seconds_per_step:
            return self.candidates[0]
        return min(self.seconds_per_step, key=self.seconds_per_step.get)

    def record(self, limit, seconds, steps):
        """Take the time of a chunk: a moving average per limit, so that a change of load
        shows within a few chunks."""
        if steps > 0:
            value = seconds / steps
            previous = self.seconds_per_step.get(limit)
            # A trial's time replaces the old one: it was measured long ago, under another load.
            fresh = previous is None or self._trial
            self.seconds_per_step[limit] = value if fresh else 0.5 * previous + 0.5 * value
        if self._trial:
            self.since_trial = 0
            lost = self.best() != limit
            self.wait = min(MAX_RETRY_EVERY, self.wait * 2) if lost else self.retry_every
            self._trial = False
        else:
            self.since_trial += 1

    def timed(self, run, steps_wanted):
        """Run ``run(limit)`` (which returns the steps it ran) under the chosen limit and
        record its time; return what ``run`` returned."""
        limit = self.limit()
        started = time.perf_counter()
        result = run(limit)
        self.record(limit, time.perf_counter() - started, getattr(result, "steps", steps_wanted))
        return result
