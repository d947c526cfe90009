"""The ``hf:`` backend: a transformers causal language model in this process.

Spec: ``hf:PATH_OR_HUB_ID`` with optional ``?key=value&...`` options:

- ``trust_remote_code=1``: run the model repository's own Python code (off unless asked for);
- ``device=cpu|cuda|cuda:1``: where to run (default: ``cuda`` when a GPU is present, else ``cpu``);
- ``dtype=bfloat16|float16|float32``: weights' dtype (default: bfloat16 on a GPU, float32 on the CPU);
- ``batch_size=N``: prompts per forward pass (default 8).

Weights are read from safetensors only. A local directory is read as it is; a hub id is looked up in the
local Hugging Face cache and downloaded only where the hub is reachable and ``HF_HUB_OFFLINE`` is not set.

>>> model = load_model("hf:/path/to/checkpoint?batch_size=4")  # doctest: +SKIP
>>> model.generate(["1. e4 e5 2."], GenerationConfig(max_new_tokens=8, stop=("\\n",)))  # doctest: +SKIP
[' Nf3 Nc6 3. Bb5']
"""

from __future__ import annotations

import gc
import inspect
import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

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

OPTIONS = ("trust_remote_code", "device", "dtype", "batch_size")
DEFAULT_BATCH_SIZE = 8
DTYPES = ("bfloat16", "float16", "float32")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


class TransformersModel:
    """A causal LM loaded with ``AutoModelForCausalLM``; batched generation (left padding) and scoring.

    Build it with :func:`chessteach.llm.load_model` (``hf:PATH``) or directly, options as keywords:

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
    ) -> None:
        self.spec = spec or f"hf:{path}"
        self.path = path
        self.batch_size = batch_size
        if dtype is not None and dtype not in DTYPES:
            raise ModelLoadError(f"cannot load model {path!r}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            raise ModelLoadError(
                f"cannot load model {path!r}: the hf: backend needs torch and transformers "
                f"(pip install 'chessteach[train]'): {one_line(exc)}"
            ) from exc

        source, local_only = self._locate(path)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch_dtype = (
            getattr(torch, dtype) if dtype else (torch.bfloat16 if self.device.startswith("cuda") else torch.float32)
        )
        logger.info("loading %s on %s (%s)", source, self.device, torch_dtype)
        try:
            self.tokenizer: Any = AutoTokenizer.from_pretrained(
                source, trust_remote_code=trust_remote_code, local_files_only=local_only
            )
            self.model: Any = cast(
                Any,
                AutoModelForCausalLM.from_pretrained(
                    source,
                    dtype=torch_dtype,
                    use_safetensors=True,
                    trust_remote_code=trust_remote_code,
                    local_files_only=local_only,
                ),
            )
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
                texts = self.tokenizer.batch_decode(out[:, ids.shape[1] :], skip_special_tokens=True)
                for i, text in zip(batch, texts, strict=True):
                    outputs[i] = truncate_at_stop(text, config.stop)
        return outputs

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
                # logits[:, j] predicts the token at position width - keep + j + 1: the last keep - 1 tokens
                logprobs = torch.log_softmax(logits[:, :-1, :].float(), dim=-1)
                targets = ids[:, -(keep - 1) :]
                token_logprobs = logprobs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
                for row, i in enumerate(batch):
                    n = len(pairs[i][1])
                    scores[i] = float(token_logprobs[row, -n:].sum())
        return scores

    def close(self) -> None:
        """Drop the model and free GPU memory."""
        import torch

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
    )
