"""pyabc's MappingSampler over a gridsim executor, with reproducible task seeds and a journal.

pyabc's own MappingSampler reseeds every task from the operating system, so parallel
runs cannot be repeated. Here task k of call c in generation t is seeded from (root
seed, t, c, k) and results are put back in task order, so the particles depend neither
on the executor nor on an interruption. A module of its own: importing pyabc is slow,
and the worker processes must be able to import the class.

Resume. Continuing from pyabc's database (``ABCSMC.load``) cannot repeat an
uninterrupted run, because pyabc keeps state in memory that the database does not hold:
the temperature schedule's past temperatures (without them the first resumed generation
takes the initial-temperature branch and no cap from the previous one), the records it
adapts to (all particles of the last generation, rejected ones too, with their proposal
densities; from the database only the accepted, with dummy densities), the stochastic
acceptor's normalisation (the largest over all generations) and the number of
generations the schedule plans for. Instead every finished task is appended to a
:class:`TaskJournal` as it arrives, and a rerun replays the calibration from the start:
a task found in the journal with the same seed and the same inputs (a digest of the
sampling function pyabc hands it: proposal, temperature, acceptor) is read back instead
of simulated, so pyabc's whole state is rebuilt from the same numbers in the same order
and the rerun is the uninterrupted run; a task whose inputs differ runs again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
from pyabc import Parameter
from pyabc.population import Particle, Sample
from pyabc.sampler import MappingSampler
from sqlalchemy.exc import SQLAlchemyError

from gridsim.core.errors import InputError
from gridsim.core.executors import RunExecutor
from gridsim.studies.calibration_folder import write_error

DatabaseError = SQLAlchemyError  # pyabc's database (SQLAlchemy) failed
TaskKey = tuple[int, int, int]  # (generation t, call in it, task index)
_VERSION = 1  # of a journal line's layout


class TaskJournal:
    """The finished sampling tasks of one calibration: one JSON line each, appended.

    A line is written whole by one ``write``; a torn last line (kill -9 or a full disk
    in the middle of it) and anything after it are cut off when the journal is opened.
    """

    def __init__(self, path: Path, fresh: bool) -> None:
        """Open the journal at ``path``, keeping its whole lines unless ``fresh``."""
        self.path = path
        self._done: dict[TaskKey, dict[str, Any]] = {}
        keep = 0 if fresh else self._read()
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
            os.ftruncate(self._fd, keep)
            os.lseek(self._fd, keep, os.SEEK_SET)
        except OSError as exc:
            raise write_error(path, exc) from None

    def _read(self) -> int:
        """Load the whole, valid lines; return the length in bytes they take."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise InputError(f"{self.path}: cannot read ({exc.strerror}); rerun, or delete "
                             "the file to start the calibration afresh") from None
        keep = 0
        while (end := data.find(b"\n", keep)) >= 0:
            try:
                record = json.loads(data[keep:end])
                _particles(record)  # checks the layout
                key = (int(record["t"]), int(record["call"]), int(record["task"]))
            except (ValueError, TypeError, KeyError, IndexError, OverflowError,
                    RecursionError):
                break  # torn or damaged: the tasks from here on run again
            self._done[key] = record
            keep = end + 1
        return keep

    def find(self, key: TaskKey, seed: int, inputs: str) -> tuple[Any, int] | None:
        """Return the (sample, evaluations) task ``key`` gave, or None.

        Only a task that ran with the same ``seed`` and ``inputs`` (the digest of what
        pyabc gave it: parameters' proposal, temperature, acceptor) is read back.
        """
        record = self._done.get(key)
        if record is None or record["seed"] != seed or record["inputs"] != inputs:
            return None
        accepted, rejected = _particles(record)
        sample = Sample()
        sample.accepted_particles, sample.rejected_particles = accepted, rejected
        return sample, int(record["evaluations"])

    def add(self, key: TaskKey, seed: int, inputs: str, sample: Any, evaluations: int
            ) -> None:
        """Append task ``key``'s result (before pyabc normalises its weights)."""
        try:
            line = json.dumps({
                "v": _VERSION, "t": key[0], "call": key[1], "task": key[2], "seed": seed,
                "inputs": inputs, "evaluations": evaluations,
                "accepted": [_particle_row(p) for p in sample.accepted_particles],
                "rejected": [_particle_row(p) for p in sample.rejected_particles]},
                separators=(",", ":")).encode("utf-8") + b"\n"
        except TypeError:
            return  # a value the journal cannot hold: the task runs again on a rerun
        try:
            view = memoryview(line)
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as exc:
            raise write_error(self.path, exc) from None

    def sync(self) -> None:
        """Flush the journal to the disk."""
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise write_error(self.path, exc) from None

    def close(self) -> None:
        """Close the journal's file."""
        os.close(self._fd)


def _particle_row(particle: Any) -> list[Any]:
    return [_scalar(particle.m), [[k, _scalar(v)] for k, v in particle.parameter.items()],
            _scalar(particle.weight), [[k, _scalar(v)] for k, v in particle.sum_stat.items()],
            _scalar(particle.distance), _scalar(particle.accepted),
            _scalar(particle.proposal_id), _scalar(particle.preliminary)]


def _particles(record: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Return the accepted and rejected particles of a journal line (checks its layout)."""
    if (record["v"] != _VERSION or not isinstance(record["seed"], int)
            or not isinstance(record["inputs"], str)
            or not isinstance(record["evaluations"], int) or not record["accepted"]):
        raise ValueError("not a journal line of this version")
    return ([_particle(row) for row in record["accepted"]],
            [_particle(row) for row in record["rejected"]])


def _particle(row: list[Any]) -> Any:
    m, parameter, weight, sum_stat, distance, accepted, proposal_id, preliminary = row
    return Particle(
        m=_value(m), parameter=Parameter({str(k): _value(v) for k, v in parameter}),
        weight=_value(weight), sum_stat={str(k): _value(v) for k, v in sum_stat},
        distance=_value(distance), accepted=_value(accepted),
        proposal_id=_value(proposal_id), preliminary=_value(preliminary))


def _scalar(value: Any) -> Any:
    """Return ``value`` for JSON, numpy scalars tagged with their type (read back as is)."""
    if isinstance(value, np.float64):
        return {"f8": float(value)}
    if isinstance(value, np.int64):
        return {"i8": int(value)}
    if isinstance(value, np.bool_):
        return {"b1": bool(value)}
    if isinstance(value, bool | int | float) and type(value) in (bool, int, float):
        return value
    raise TypeError(f"cannot journal a {type(value).__name__}")


def _value(item: Any) -> Any:
    if isinstance(item, dict):
        ((tag, value),) = item.items()
        kind = {"f8": np.float64, "i8": np.int64, "b1": np.bool_}[tag]
        return kind(value)
    if type(item) not in (bool, int, float):
        raise TypeError("not a number")
    return item


class SeededMappingSampler(MappingSampler):  # type: ignore[misc]
    """Samples particles on ``executor``; task seeds come from ``root_seed``."""

    def __init__(self, executor: RunExecutor, root_seed: int,
                 journal: TaskJournal | None = None) -> None:
        """Run tasks on ``executor``, or read them back from ``journal``.

        Only pyabc's pickling functions and sample factory go to the workers.
        """
        super().__init__(map_=map)
        self._executor = executor
        self._root_seed = root_seed
        self._journal = journal
        self._calls: dict[int, int] = {}

    def map_function(self, simulate_one: Any, task: tuple[int, int]) -> Any:
        """Return the particles sampled until one is accepted, and how many it took."""
        simulate_one = self.unpickle(simulate_one)
        np.random.seed(task[1])
        random.seed(task[1])
        evaluations = 0
        sample = self._create_empty_sample()
        while True:
            particle = simulate_one()
            evaluations += 1
            sample.append(particle)
            if particle.accepted:
                return sample, evaluations

    def sample_until_n_accepted(self, n: int, simulate_one: Any, t: int, **_: Any) -> Any:
        """Return a sample with ``n`` accepted particles, drawn in seeded tasks."""
        call = self._calls.get(t, 0)
        self._calls[t] = call + 1
        entropy = [self._root_seed, t + 2, call]  # t is -1 for pyabc's calibration sample
        seeds = np.random.SeedSequence(entropy).generate_state(n).tolist()
        pickled = self.pickle(simulate_one)
        inputs = hashlib.sha256(pickled).hexdigest()[:32]
        results: dict[int, tuple[Any, int]] = {}
        for k, seed in enumerate(seeds):
            found = (None if self._journal is None
                     else self._journal.find((t, call, k), seed, inputs))
            if found is not None:
                results[k] = found
        todo = [(k, seed) for k, seed in enumerate(seeds) if k not in results]
        if todo:
            task = functools.partial(self.map_function, pickled)
            # tasks run in this process too (a serial executor): keep its random state
            states = np.random.get_state(), random.getstate()
            try:
                for (k, seed), result in self._executor.map_unordered(task, todo):
                    results[k] = result
                    if self._journal is not None:
                        self._journal.add((t, call, k), seed, inputs, *result)
            finally:
                np.random.set_state(states[0])
                random.setstate(states[1])
                if self._journal is not None:
                    self._journal.sync()
        ordered = [results[k] for k in range(len(seeds))]
        self.nr_evaluations_ = sum(evaluations for _, evaluations in ordered)
        sample = self._create_empty_sample()
        for part, _evaluations in ordered:
            sample += part
        return sample
