"""The ``hf:`` backend: a transformers causal language model in this process.

Spec: ``hf:PATH_OR_HUB_ID`` with optional ``?key=value&...`` options:

- ``trust_remote_code=1``: run the model repository's own Python code (off unless asked for);
- ``device=cpu|cuda|cuda:1``: where to run (default: ``cuda`` when a GPU is present, else ``cpu``);
- ``dtype=bfloat16|float16|float32``: weights' dtype (default: bfloat16 on a GPU, float32 on the CPU);
- ``batch_size=N``: prompts per forward pass (default 8);
- ``gguf=FILE``: the model is the GGUF file ``FILE`` in the directory ``PATH`` (needs the ``gguf`` package);
  it is converted once to a safetensors checkpoint in the model cache (:mod:`chessteach.llm.gguf`), which loads
  far faster than dequantizing the file at every load; ``convert=0`` dequantizes it at every load instead.

Weights are read from safetensors only (GGUF files through their conversion). A local directory is read as it
is; a hub id is looked up in the local Hugging Face cache and downloaded only where the hub is reachable and
``HF_HUB_OFFLINE`` is not set. The short name ``smollm2`` is ``hf:DIR?gguf=FILE`` for the installed
SmolLM2-135M-Instruct. The examples are not run as doctests (they need a checkpoint; ``tests/test_llm.py`` runs
a tiny one):

>>> model = load_model("hf:/path/to/checkpoint?batch_size=4")  # doctest: +SKIP
>>> model.generate(["1. e4 e5 2."], GenerationConfig(max_new_tokens=8, stop=("\\n",)))  # doctest: +SKIP
[' Nf3 Nc6 3. Bb5']
"""

from __future__ import annotations

import copy
import gc
import inspect
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chessteach.llm._util import (
    continuation_token_ids,
    one_line,
    option_bool,
    option_int,
    split_options,
    truncate_at_stop,
)
from chessteach.llm.base import (
    GenerationConfig,
    LanguageModel,
    ModelLoadError,
    ModelRequestError,
    Prompt,
    register_backend,
)

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

OPTIONS = ("trust_remote_code", "device", "dtype", "batch_size", "gguf", "convert")
DEFAULT_BATCH_SIZE = 8
SHARED_PREFIX_TOKENS = 2048
"""Continuation tokens scored in one forward pass after a shared prompt (:meth:`TransformersModel.score_continuations`)."""
PREFILL_ENTRIES = 8
"""Prompts whose key/value caches :class:`TransformersModel` keeps, so that a later prompt sharing a prefix with one
of them (the same explanation before another question) computes only the rest."""
MIN_SHARED_TOKENS = 8
"""The shortest shared prefix worth reusing (below it the prompt is computed afresh)."""
_CUSTOM_MASK_ATTENTION = ("sdpa", "eager")
DTYPES = ("bfloat16", "float16", "float32")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@dataclass
class TokenStats:
    """What the model computed: prompt tokens run and taken from a kept prefix instead, continuation tokens
    scored, tokens generated, and the floating-point operations those forward passes need (:class:`FlopModel`).

    >>> stats = TokenStats(computed=300, reused=900)
    >>> stats.reuse_rate
    0.75
    """

    prompts: int = 0
    computed: int = 0
    reused: int = 0
    scored: int = 0
    generated: int = 0
    flops: float = 0.0

    @property
    def reuse_rate(self) -> float:
        """The share of prompt tokens that were not computed again."""
        total = self.computed + self.reused
        return self.reused / total if total else 0.0

    def minus(self, before: TokenStats) -> TokenStats:
        """The counts since ``before`` (an earlier copy)."""
        return TokenStats(*(getattr(self, f) - getattr(before, f) for f in self.__dataclass_fields__))


@dataclass(frozen=True)
class FlopModel:
    """The floating-point operations of a decoder's forward pass, from its sizes: ``2 x`` the non-embedding
    parameters per token, ``4 x layers x query width`` per (token, key) pair attended to, and ``2 x vocabulary x
    hidden`` per position whose logits are computed. Normalisations, activations and the softmax are left out
    (a few percent), so the time it gives at a measured matmul rate is a bound.

    >>> FlopModel(body_params=100, layers=2, query_width=8, vocab=10, hidden=4).forward(3, keys=6, logits=1)
    1064.0
    """

    body_params: int
    layers: int
    query_width: int
    vocab: int
    hidden: int

    def forward(self, tokens: int, *, keys: int, logits: int) -> float:
        """A pass over ``tokens`` new tokens that attend to ``keys`` (token, key) pairs in all, computing the logits
        of ``logits`` positions."""
        return float(
            2 * self.body_params * tokens + 4 * self.layers * self.query_width * keys + 2 * self.vocab * self.hidden * logits
        )

    @staticmethod
    def causal_keys(tokens: int, past: int) -> int:
        """The (token, key) pairs of ``tokens`` new tokens after ``past`` cached ones, each attending to itself and
        everything before it.

        >>> FlopModel.causal_keys(3, 10)
        36
        """
        return tokens * past + tokens * (tokens + 1) // 2

    @classmethod
    def of(cls, model: Any) -> FlopModel:
        """The sizes of a transformers causal LM."""
        config = model.config
        text = getattr(config, "text_config", None) or config
        embedding = model.get_input_embeddings().weight
        params = sum(p.numel() for p in model.parameters())
        head = model.get_output_embeddings()
        untied = head is not None and head.weight.data_ptr() != embedding.data_ptr()
        body = params - embedding.numel() - (head.weight.numel() if untied else 0)
        heads = text.num_attention_heads
        head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
        return cls(body, text.num_hidden_layers, heads * head_dim, embedding.shape[0], embedding.shape[1])


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """The length of the longest common prefix of two token sequences.

    >>> common_prefix([1, 2, 3, 4], [1, 2, 9]), common_prefix([], [1])
    (2, 0)
    """
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


class TransformersModel:
    """A causal LM loaded with ``AutoModelForCausalLM``; batched generation (left padding) and scoring.

    Build it with :func:`chessteach.llm.load_model` (``hf:PATH``) or directly, options as keywords (not run as a
    doctest: it needs a checkpoint):

    >>> model = TransformersModel("/path/to/checkpoint", trust_remote_code=False)  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str,
        *,
        trust_remote_code: bool = False,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        spec: str | None = None,
        gguf: str | None = None,
        convert: bool = True,
    ) -> None:
        self.spec = spec or f"hf:{path}"
        self.path = path
        self.batch_size = batch_size
        if dtype is not None and dtype not in DTYPES:
            raise ModelLoadError(f"cannot load model {path!r}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        try:
            import torch
            import transformers  # noqa: F401
        except ImportError as exc:
            raise ModelLoadError(
                f"cannot load model {path!r}: the hf: backend needs torch and transformers "
                f"(pip install 'chessteach[train]'): {one_line(exc)}"
            ) from exc

        gguf_path = None
        if gguf is not None:
            from chessteach.llm.gguf import gguf_checkpoint, gguf_file

            gguf_path = gguf_file(path, gguf)
            source, local_only = (str(gguf_checkpoint(gguf_path)), True) if convert else (str(gguf_path), True)
        else:
            source, local_only = self._locate(path)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch_dtype = (
            getattr(torch, dtype) if dtype else (torch.bfloat16 if self.device.startswith("cuda") else torch.float32)
        )
        logger.info("loading %s on %s (%s)", source, self.device, torch_dtype)
        self.tokenizer: Any
        self.model: Any
        try:
            if gguf_path is not None and not convert:
                from chessteach.llm.gguf import load_gguf

                self.tokenizer, self.model = load_gguf(gguf_path, dtype=torch_dtype)
            else:
                self.tokenizer, self.model = self._load(source, torch_dtype, trust_remote_code, local_only)
            self.model.to(self.device)
        except (OSError, ValueError, RuntimeError, KeyError, ImportError, TypeError) as exc:
            hint = ""
            if source == path and local_only:
                hint = " (HF_HUB_OFFLINE is set: download it first, or name a local directory)"
            raise ModelLoadError(f"cannot load model {path!r}: {one_line(exc)}{hint}") from exc
        self.model.eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"
        forward = inspect.signature(self.model.forward).parameters
        self._takes_position_ids = "position_ids" in forward
        self._takes_logits_to_keep = "logits_to_keep" in forward
        self._prefills: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self.keep_prefixes = PREFILL_ENTRIES
        """Prompts whose caches are kept for later prompts that share their beginning (0: none)."""
        self.stats = TokenStats()
        """What the model computed (tokens and FLOPs), for the speed benchmarks."""
        self.flop_model = FlopModel.of(self.model)

    @staticmethod
    def _load(source: str, dtype: Any, trust_remote_code: bool, local_only: bool) -> tuple[Any, Any]:
        """The tokenizer and the model of a checkpoint directory or hub id (safetensors only)."""
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(
            source, trust_remote_code=trust_remote_code, local_files_only=local_only
        )
        model = AutoModelForCausalLM.from_pretrained(
            source,
            dtype=dtype,
            use_safetensors=True,
            trust_remote_code=trust_remote_code,
            local_files_only=local_only,
        )
        return tokenizer, model

    @staticmethod
    def _locate(path: str) -> tuple[str, bool]:
        """The directory or hub id to load, and whether to stay off the network."""
        local = Path(path).expanduser()
        if local.is_dir():
            if not (local / "config.json").is_file():
                raise ModelLoadError(f"cannot load model {path!r}: not a model directory (no config.json in it)")
            return str(local), True
        if local.exists():
            raise ModelLoadError(f"cannot load model {path!r}: a file, not a model directory")
        if path.startswith(("/", ".", "~")) or path.count("/") > 1 or not _HUB_ID.match(path):
            raise ModelLoadError(f"cannot load model {path!r}: no such directory")
        return path, _hub_offline()

    # --- prompts ---------------------------------------------------------------------------------------------

    def _render(self, prompt: Prompt) -> tuple[str, bool]:
        """The prompt as text, and whether the tokenizer should add its special tokens (plain text only)."""
        if isinstance(prompt, str):
            return prompt, True
        if not getattr(self.tokenizer, "chat_template", None):
            raise ModelRequestError(f"{self.spec}: the model has no chat template; pass plain text prompts instead")
        text = self.tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)
        assert isinstance(text, str)
        return text, False  # the template writes its own special tokens

    def _encode(self, prompt: Prompt) -> list[int]:
        text, special = self._render(prompt)
        ids: list[int] = self.tokenizer(text, add_special_tokens=special)["input_ids"]
        if not ids:
            raise ModelRequestError(f"{self.spec}: cannot generate from an empty prompt (the tokenizer adds no BOS)")
        return ids

    def _batches(self, order: Sequence[int]) -> Iterator[list[int]]:
        for start in range(0, len(order), self.batch_size):
            yield list(order[start : start + self.batch_size])

    def _left_pad(self, rows: Sequence[Sequence[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        width = max(len(row) for row in rows)
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (width - len(row)) + list(row) for row in rows], device=self.device)
        mask = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in rows], device=self.device)
        return ids, mask

    # --- the interface ---------------------------------------------------------------------------------------

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        """One completion per prompt, batched with left padding; greedy when ``temperature == 0``."""
        import torch

        config = config or GenerationConfig()
        encoded = [self._encode(p) for p in prompts]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
        sample = config.temperature > 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": config.max_new_tokens,
            "do_sample": sample,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if sample:
            kwargs.update(temperature=config.temperature, top_p=config.top_p, top_k=0)
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        if config.seed is not None:
            torch.manual_seed(config.seed)
            if torch.cuda.is_available():
                torch.cuda.manual_seed_all(config.seed)
        outputs: list[str] = [""] * len(encoded)
        with torch.inference_mode():
            for batch in self._batches(order):
                ids, mask = self._left_pad([encoded[i] for i in batch])
                if config.stop:
                    kwargs["stopping_criteria"] = _stop_criteria(self.tokenizer, config.stop, ids.shape[1])
                out = self.model.generate(input_ids=ids, attention_mask=mask, **kwargs)
                self._count_generation(ids.shape, out.shape[1] - ids.shape[1])
                texts = self.tokenizer.batch_decode(out[:, ids.shape[1] :], skip_special_tokens=True)
                for i, text in zip(batch, texts, strict=True):
                    outputs[i] = truncate_at_stop(text, config.stop)
        return outputs

    def _count_generation(self, shape: Sequence[int], steps: int) -> None:
        """Count a batch's ``generate``: its padded prompts computed whole, then ``steps`` decoding steps."""
        rows, width = int(shape[0]), int(shape[1])
        self.stats.prompts += rows
        self.stats.computed += rows * width
        self.stats.generated += rows * steps
        prompt = self.flop_model.forward(width, keys=FlopModel.causal_keys(width, 0), logits=1)
        decode = sum(self.flop_model.forward(1, keys=width + i + 1, logits=1) for i in range(max(0, steps - 1)))
        self.stats.flops += rows * (prompt + decode)

    def _continuation_ids(self, prompt: Prompt, continuation: str) -> tuple[list[int], list[int]]:
        text, special = self._render(prompt)
        return continuation_token_ids(self.tokenizer, text, continuation, add_special_tokens=special)

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        """Summed natural-log probability of each continuation's tokens given its prompt (batched)."""
        import torch

        if len(prompts) != len(continuations):
            raise ValueError(f"score: {len(prompts)} prompts but {len(continuations)} continuations")
        pairs = [self._continuation_ids(p, c) for p, c in zip(prompts, continuations, strict=True)]
        if any(not prompt_ids for prompt_ids, _ in pairs):
            raise ModelRequestError(f"{self.spec}: cannot score after an empty prompt (the tokenizer adds no BOS)")
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        scores = [0.0] * len(pairs)
        with torch.inference_mode():
            for batch in self._batches(order):
                batch = [i for i in batch if pairs[i][1]]  # an empty continuation has log-probability 0
                if not batch:
                    continue
                rows = [pairs[i][0] + pairs[i][1] for i in batch]
                ids, mask = self._left_pad(rows)
                keep = max(len(pairs[i][1]) for i in batch) + 1
                kwargs: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
                if self._takes_position_ids:
                    kwargs["position_ids"] = (mask.cumsum(-1) - 1).clamp(min=0)
                if self._takes_logits_to_keep:
                    kwargs["logits_to_keep"] = keep
                logits = self.model(**kwargs).logits[:, -keep:, :]
                rows_n, width = ids.shape
                self.stats.prompts += rows_n
                self.stats.computed += rows_n * (width - keep + 1)
                self.stats.scored += rows_n * (keep - 1)
                self.stats.flops += rows_n * self.flop_model.forward(
                    width, keys=FlopModel.causal_keys(width, 0), logits=keep
                )
                # logits[:, j] predicts the token at position width - keep + j + 1: the last keep - 1 tokens
                logprobs = torch.log_softmax(logits[:, :-1, :].float(), dim=-1)
                targets = ids[:, -(keep - 1) :]
                token_logprobs = logprobs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
                for row, i in enumerate(batch):
                    n = len(pairs[i][1])
                    scores[i] = float(token_logprobs[row, -n:].sum())
        return scores

    def _prefill(self, prefix: Sequence[int]) -> tuple[Any, torch.Tensor]:
        """The key/value cache of a prompt's tokens and the log-probabilities of the token after them.

        The caches of the last :data:`PREFILL_ENTRIES` prompts are kept: a prompt that shares at least
        :data:`MIN_SHARED_TOKENS` leading tokens with one of them (the explanation and the question's opening before
        another question) starts from a copy of that cache cut to the shared part and computes only the rest. The
        cache returned is the caller's to extend.
        """
        import torch

        key = tuple(prefix)
        best, shared = None, 0
        for kept, cache in self._prefills.items():
            n = common_prefix(kept, key)
            if n > shared:
                best, shared = cache, n
        shared = min(shared, len(key) - 1)  # the last token runs again: its logits are the answer's first
        kwargs: dict[str, Any] = {"use_cache": True}
        if self._takes_logits_to_keep:
            kwargs["logits_to_keep"] = 1
        if best is not None and shared >= MIN_SHARED_TOKENS:
            past = copy.deepcopy(best)
            past.crop(-(past.get_seq_length() - shared))  # negative: remove that many (every transformers 5)
            kwargs["past_key_values"] = past
            ids = torch.tensor([key[shared:]], device=self.device)
        else:
            shared = 0
            ids = torch.tensor([key], device=self.device)
        out = self.model(input_ids=ids, **kwargs)
        new = len(key) - shared
        self.stats.prompts += 1
        self.stats.computed += new
        self.stats.reused += shared
        self.stats.flops += self.flop_model.forward(new, keys=FlopModel.causal_keys(new, shared), logits=1)
        cache = out.past_key_values
        if self.keep_prefixes > 0:
            self._prefills[key] = copy.deepcopy(cache)
            self._prefills.move_to_end(key)
        while len(self._prefills) > self.keep_prefixes:
            self._prefills.popitem(last=False)
        return cache, torch.log_softmax(out.logits[0, -1].float(), dim=-1)

    def _shared_prefix_ok(self) -> bool:
        return self.model.config._attn_implementation in _CUSTOM_MASK_ATTENTION and self._takes_position_ids

    def score_continuations(
        self, prompt: Prompt, continuations: Sequence[str], *, pass_tokens: int = SHARED_PREFIX_TOKENS
    ) -> list[float]:
        """Summed natural-log probability of each continuation after one prompt, the prompt computed once.

        The prompt runs once (its key/value cache kept, and reused by later prompts that share its beginning:
        :meth:`_prefill`); then all the continuations' tokens run together as one sequence after it, each attending
        to the prompt and to its own earlier tokens only (a block-diagonal mask, positions restarting after the
        prompt for each), in passes of up to ``pass_tokens`` tokens. The log-probabilities equal :meth:`score`'s for
        ``[prompt] * len(continuations)`` up to float rounding. Models whose attention takes no custom mask (or no
        position ids) are scored through :meth:`score`.
        """
        import torch

        if not continuations:
            return []
        if not self._shared_prefix_ok():
            return self.score([prompt] * len(continuations), continuations)
        with torch.inference_mode():
            cache, first = self._prefill(self._prompt_ids(prompt))
            return self._score_after(prompt, continuations, cache, first, pass_tokens)

    def _prompt_ids(self, prompt: Prompt) -> list[int]:
        ids = self._continuation_ids(prompt, "")[0]
        if not ids:
            raise ModelRequestError(f"{self.spec}: cannot score after an empty prompt (the tokenizer adds no BOS)")
        return ids

    def _score_after(
        self, prompt: Prompt, continuations: Sequence[str], cache: Any, first: torch.Tensor, pass_tokens: int
    ) -> list[float]:
        """The continuations' log-probabilities after a prompt whose cache and next-token log-probabilities are
        given (the cache is used up)."""
        pairs = [self._continuation_ids(prompt, c) for c in continuations]
        width = cache.get_seq_length()
        scores = [0.0] * len(pairs)
        nonempty = [i for i, (_, c) in enumerate(pairs) if c]  # an empty continuation has log-probability 0
        groups = list(_token_groups([len(pairs[i][1]) for i in nonempty], pass_tokens))
        for number, group in enumerate(groups):
            indices = [nonempty[j] for j in group]
            # each pass appends to the cache: the last one may use it up, the others take a copy
            past = cache if number == len(groups) - 1 else copy.deepcopy(cache)
            logprobs = self._after_prefix(past, width, [pairs[i][1] for i in indices])
            for i, rest in zip(indices, logprobs, strict=True):
                scores[i] = float(first[pairs[i][1][0]]) + rest
        return scores

    def score_and_generate(
        self, prompt: Prompt, continuations: Sequence[str], config: GenerationConfig | None = None
    ) -> tuple[list[float], str]:
        """:meth:`score_continuations` and a greedy completion of the same prompt, which is computed once for both
        (the completion decodes from a copy of its cache). A sampling ``config`` (``temperature > 0``) generates
        through :meth:`generate` instead."""
        import torch

        config = config or GenerationConfig()
        if config.temperature > 0 or not self._shared_prefix_ok():
            return self.score_continuations(prompt, continuations), self.generate([prompt], config)[0]
        with torch.inference_mode():
            cache, first = self._prefill(self._prompt_ids(prompt))
            text = self._greedy(copy.deepcopy(cache), first, config)
            scores = []
            if continuations:
                scores = self._score_after(prompt, continuations, cache, first, SHARED_PREFIX_TOKENS)
        return scores, text

    def _greedy(self, cache: Any, first: torch.Tensor, config: GenerationConfig) -> str:
        """Greedy decoding after a prompt's cache, to ``max_new_tokens``, the end of sequence or a stop string."""
        import torch

        eos = self.model.generation_config.eos_token_id
        ends = set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}
        tokens: list[int] = []
        logprobs = first
        window = 2 * max((len(s) for s in config.stop if s), default=1) + 4
        for _ in range(config.max_new_tokens):
            token = int(logprobs.argmax())
            if token in ends:
                break
            tokens.append(token)
            self.stats.generated += 1
            if config.stop:
                tail = self.tokenizer.decode(tokens[-window:], skip_special_tokens=True)
                if any(s and s in tail for s in config.stop):
                    break
            if len(tokens) == config.max_new_tokens:
                break
            step = torch.tensor([[token]], device=self.device)
            past = cache.get_seq_length()
            out = self.model(input_ids=step, past_key_values=cache, use_cache=True)
            self.stats.flops += self.flop_model.forward(1, keys=past + 1, logits=1)
            cache = out.past_key_values
            logprobs = out.logits[0, -1]
        return truncate_at_stop(self.tokenizer.decode(tokens, skip_special_tokens=True), config.stop)

    def _after_prefix(self, cache: Any, width: int, tokens: Sequence[Sequence[int]]) -> list[float]:
        """Sum of the log-probabilities of each token run's tokens after its first, all runs in one pass after
        a cached prefix of ``width`` tokens."""
        import torch

        flat = [t for run in tokens for t in run]
        total = len(flat)
        starts = [0]
        for run in tokens:
            starts.append(starts[-1] + len(run))
        block = torch.zeros(total, total, dtype=torch.bool, device=self.device)
        positions = torch.empty(total, dtype=torch.long, device=self.device)
        for start, stop in zip(starts, starts[1:], strict=False):
            n = stop - start
            block[start:stop, start:stop] = torch.ones(n, n, dtype=torch.bool, device=self.device).tril()
            positions[start:stop] = torch.arange(width, width + n, device=self.device)
        allowed = torch.cat([torch.ones(total, width, dtype=torch.bool, device=self.device), block], dim=1)
        if self.model.config._attn_implementation == "sdpa":
            mask = allowed[None, None]
        else:
            mask = torch.zeros(allowed.shape, dtype=self.model.dtype, device=self.device)
            mask = mask.masked_fill(~allowed, torch.finfo(self.model.dtype).min)[None, None]
        ids = torch.tensor([flat], device=self.device)
        logits = self.model(
            input_ids=ids, attention_mask=mask, position_ids=positions[None], past_key_values=cache, use_cache=True
        ).logits[0]
        self.stats.scored += total
        keys = sum(FlopModel.causal_keys(len(run), width) for run in tokens)
        self.stats.flops += self.flop_model.forward(total, keys=keys, logits=total)
        logprobs = torch.log_softmax(logits.float(), dim=-1)
        sums = []
        for start, stop in zip(starts, starts[1:], strict=False):
            # the logits at a run's token j predict its token j + 1
            targets = ids[0, start + 1 : stop]
            sums.append(float(logprobs[start : stop - 1].gather(-1, targets[:, None]).sum()))
        return sums

    def close(self) -> None:
        """Drop the model and free GPU memory."""
        import torch

        self._prefills.clear()
        for name in ("model", "tokenizer"):
            if hasattr(self, name):
                delattr(self, name)
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()


def _stop_criteria(tokenizer: Any, stop: Sequence[str], prompt_width: int) -> Any:
    """A ``StoppingCriteriaList`` that ends each sequence once its new text contains a stop string.

    Only the last few tokens are decoded at each step (enough to hold the longest stop string), so the cost
    does not grow with the length of the completion; :func:`truncate_at_stop` then cuts the text.
    """
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    stops = [s for s in stop if s]
    window = 2 * max((len(s) for s in stops), default=1) + 4

    class StopOnStrings(StoppingCriteria):
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
            new = input_ids[:, prompt_width:][:, -window:]
            texts = tokenizer.batch_decode(new, skip_special_tokens=True)
            return torch.tensor([any(s in t for s in stops) for t in texts], device=input_ids.device)

    return StoppingCriteriaList([StopOnStrings()])


def _token_groups(lengths: Sequence[int], budget: int) -> Iterator[list[int]]:
    """Consecutive indices whose lengths add up to at most ``budget`` (at least one index a group)."""
    group: list[int] = []
    used = 0
    for i, n in enumerate(lengths):
        if group and used + n > budget:
            yield group
            group, used = [], 0
        group.append(i)
        used += n
    if group:
        yield group


@register_backend("hf")
def _from_spec(target: str) -> LanguageModel:
    spec = f"hf:{target}"
    path, options = split_options(target, OPTIONS, spec=spec)
    return TransformersModel(
        path,
        trust_remote_code=option_bool(options, "trust_remote_code", False, spec=spec),
        device=options.get("device") or None,
        dtype=options.get("dtype") or None,
        batch_size=option_int(options, "batch_size", DEFAULT_BATCH_SIZE, spec=spec),
        spec=spec,
        gguf=options.get("gguf") or None,
        convert=option_bool(options, "convert", True, spec=spec),
    )
