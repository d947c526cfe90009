"""Where a GRPO step's time goes, measured through TRL's and transformers' public hooks only.

:class:`StepClock` is a transformers ``TrainerCallback`` that marks the start of every optimizer step and
micro-step (``on_step_begin``, ``on_substep_end``; ``on_prediction_step`` in TRL's evaluation loop);
:meth:`StepClock.time_rewards` wraps the rewards in :class:`TimedReward` objects that tell the clock when scoring
starts and ends. TRL generates a batch's completions and then calls its rewards in order, so

- ``timing/generation_s`` (``timing/generation_cpu_s``: this process's CPU seconds, all threads) runs from the
  mark to the first reward's call: the prompts' tokenization, the sampling and decoding, and whatever log-prob
  pass TRL makes before scoring (none with ``beta: 0`` and generation aligned with the optimizer steps). TRL's
  public surface has no hook around generation alone, and this is the nearest public bound: it is what the
  generation phase of a step costs;
- ``timing/reward_s`` (``timing/reward_cpu_s``) runs from the first reward's call to the last one's return;
- the rest of TRL's ``step_time`` is the training pass (the forward and backward pass of the loss).

The clock logs them through TRL's ``log_metric`` reward keyword, so they land in TRL's logs (and ``metrics.csv``)
beside its own metrics, averaged over the logging steps. Each part is put against its bound: the FLOPs the
batch's tokens need (:class:`~chessteach.llm.transformers_backend.FlopModel` of the teacher; the student's own
count) at the matmul rate measured when training begins (``timing/generation_bound_s``,
``timing/train_pass_bound_s``, ``timing/reward_student_bound_s``, ``timing/matmul_gflops``), and the generation's
``timing/generation_tokens_per_s``. The training pass's bound counts one forward and one backward pass through the
frozen weights with LoRA (two forward passes' worth), two backward passes' worth without.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from transformers import TrainerCallback

from chessteach.rl.rewards import log_batch_metric

logger = logging.getLogger(__name__)


class StepClock(TrainerCallback):
    """Times the generation and the rewards of each GRPO step (see the module docstring); the teacher's sizes and
    the matmul rate are measured in ``on_train_begin`` from the model transformers passes to its callbacks.

    ``student_flops`` gives the FLOPs the student has computed so far (its bound is the growth over the rewards).
    """

    def __init__(self, *, student_flops: Callable[[], float] | None = None, matmul_seconds: float = 1.0) -> None:
        self.student_flops = student_flops
        self.matmul_seconds = matmul_seconds
        self.flop_model: Any = None
        self.matmul_rate = math.nan
        self.pass_factor = 3.0
        self.tokenizer: Any = None
        self.chat_template_kwargs: dict[str, Any] = {}
        self._prompt_tokens: dict[str, int] = {}
        self._mark = (time.perf_counter(), time.process_time())
        self._scoring = (0.0, 0.0, 0.0)

    # --- the trainer's hooks

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        model, self.tokenizer = kwargs.get("model"), kwargs.get("processing_class")
        self.chat_template_kwargs = dict(getattr(args, "chat_template_kwargs", None) or {})
        if model is not None:
            self.measure(model)
        self.mark()

    def on_step_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.mark()

    def on_substep_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.mark()

    def on_prediction_step(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.mark()  # TRL's own evaluation loop (no recipe runs it): the next batch starts here

    # --- measuring

    def measure(self, model: Any) -> None:
        """The teacher's sizes and the matmul rate at its shapes (a 256-row product through its MLP)."""
        from chessteach.llm.transformers_backend import FlopModel
        from chessteach.teaching.bench import matmul_throughput

        self.flop_model = FlopModel.of(model)
        inner = getattr(getattr(model, "config", None), "intermediate_size", 4 * self.flop_model.hidden)
        weight = next(model.parameters())
        self.matmul_rate = matmul_throughput(
            256,
            self.flop_model.hidden,
            inner,
            dtype=weight.dtype,
            device=str(weight.device),
            seconds=self.matmul_seconds,
        )
        self.pass_factor = 2.0 if hasattr(model, "peft_config") else 3.0
        logger.info("matmul rate at the teacher's shapes: %.1f GFLOP/s", self.matmul_rate / 1e9)

    def mark(self) -> None:
        """A step (or micro-step) begins: generation is timed from here."""
        self._mark = (time.perf_counter(), time.process_time())

    def prompt_tokens(self, prompt: str | Sequence[Mapping[str, Any]]) -> int:
        """The tokens of one prompt as TRL renders it (chat template with the generation prompt), cached by text."""
        key = prompt if isinstance(prompt, str) else repr([(m.get("role"), m.get("content")) for m in prompt])
        if key not in self._prompt_tokens:
            if isinstance(prompt, str):
                ids = self.tokenizer(text=prompt)["input_ids"]
            else:
                ids = self.tokenizer.apply_chat_template(
                    conversation=[list(prompt)],
                    add_generation_prompt=True,
                    tokenize=True,
                    return_dict=True,
                    **self.chat_template_kwargs,
                )["input_ids"][0]
            self._prompt_tokens[key] = len(ids)
        return self._prompt_tokens[key]

    def generation_bounds(self, prompts: Sequence[Any], completion_ids: Sequence[Sequence[int]]) -> tuple[float, float]:
        """The FLOPs of generating the completions (the prompt's pass, then one token at a time) and of the training
        pass's forward over prompt and completion."""
        from chessteach.llm.transformers_backend import FlopModel

        flops = self.flop_model
        generation = training = 0.0
        for prompt, ids in zip(prompts, completion_ids, strict=True):
            p, c = self.prompt_tokens(prompt), len(ids)
            generation += flops.forward(p, keys=FlopModel.causal_keys(p, 0), logits=1)
            generation += flops.forward(c, keys=FlopModel.causal_keys(c, p), logits=c)
            training += flops.forward(p + c, keys=FlopModel.causal_keys(p + c, 0), logits=c)
        return generation, training

    def scoring_begins(self, kwargs: Mapping[str, Any]) -> None:
        """The first reward of a batch is called: generation is over; log its metrics."""
        now, cpu = time.perf_counter(), time.process_time()
        seconds = now - self._mark[0]
        completion_ids = kwargs.get("completion_ids") or []
        tokens = sum(len(ids) for ids in completion_ids)
        log = functools.partial(log_batch_metric, kwargs)
        log("timing/generation_s", seconds)
        log("timing/generation_cpu_s", cpu - self._mark[1])
        log("timing/generation_tokens_per_s", tokens / seconds if seconds > 0 else 0.0)
        if self.flop_model is not None and self.tokenizer is not None and kwargs.get("prompts") is not None:
            generation, training = self.generation_bounds(kwargs["prompts"], completion_ids)
            log("timing/generation_bound_s", generation / self.matmul_rate)
            log("timing/train_pass_bound_s", self.pass_factor * training / self.matmul_rate)
            log("timing/matmul_gflops", self.matmul_rate / 1e9)
        student = self.student_flops() if self.student_flops is not None else 0.0
        self._scoring = (time.perf_counter(), time.process_time(), student)

    def scoring_ends(self, kwargs: Mapping[str, Any]) -> None:
        """The last reward of a batch returned: log the rewards' time (and the student's bound)."""
        began, cpu, student = self._scoring
        log = functools.partial(log_batch_metric, kwargs)
        log("timing/reward_s", time.perf_counter() - began)
        log("timing/reward_cpu_s", time.process_time() - cpu)
        if self.student_flops is not None and not math.isnan(self.matmul_rate):
            log("timing/reward_student_bound_s", (self.student_flops() - student) / self.matmul_rate)

    def time_rewards(self, rewards: Sequence[Any]) -> list[TimedReward]:
        """The rewards, each wrapped to report to this clock (the first opens scoring, the last closes it)."""
        last = len(rewards) - 1
        return [TimedReward(r, self, first=i == 0, last=i == last) for i, r in enumerate(rewards)]


class TimedReward:
    """A reward that tells a :class:`StepClock` when it is called and when it returns; TRL sees the reward's own
    ``__name__`` (so the log columns keep their names) and the same keywords."""

    def __init__(self, reward: Callable[..., list[float | None]], clock: StepClock, *, first: bool, last: bool) -> None:
        self.reward = reward
        self.clock = clock
        self.first = first
        self.last = last
        self.__name__ = getattr(reward, "__name__", type(reward).__name__)

    def __call__(self, completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
        if self.first:
            self.clock.scoring_begins(kwargs)
        try:
            return self.reward(completions, **kwargs)
        finally:
            if self.last:
                self.clock.scoring_ends(kwargs)


__all__ = ["StepClock", "TimedReward"]
