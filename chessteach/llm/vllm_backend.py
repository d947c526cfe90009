"""The ``vllm:`` backend: vLLM's offline engine in this process (CUDA machines, the ``[vllm]`` extra).

Spec: ``vllm:PATH_OR_HUB_ID`` with optional ``?key=value&...`` options: ``trust_remote_code=1`` (off unless asked
for), ``gpu_memory_utilization=0.9``, ``max_model_len=N``, ``dtype=auto|bfloat16|float16``.

vLLM is imported only when such a model is built. Where it is missing, or there is no CUDA GPU,
:class:`~chessteach.llm.base.ModelLoadError` says what to do instead. The example is not run as a doctest (it
needs vLLM, a CUDA GPU and the checkpoint):

>>> model = load_model("vllm:Qwen/Qwen2.5-0.5B-Instruct?max_model_len=4096")  # doctest: +SKIP
>>> model.score(["1. e4 e5 2."], [" Nf3"])  # doctest: +SKIP
[-1.93]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

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
    ModelSpecError,
    Prompt,
    register_backend,
)

logger = logging.getLogger(__name__)

OPTIONS = ("trust_remote_code", "gpu_memory_utilization", "max_model_len", "dtype")
INSTALL_HINT = "pip install 'chessteach[vllm]' on a machine with a CUDA GPU, or use hf:PATH or openai:URL#MODEL"


class VLLMModel:
    """A model run by ``vllm.LLM``: batched generation with ``SamplingParams``, scoring with ``prompt_logprobs``."""

    def __init__(
        self,
        path: str,
        *,
        trust_remote_code: bool = False,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        dtype: str = "auto",
        spec: str | None = None,
    ) -> None:
        self.spec = spec or f"vllm:{path}"
        self.path = path
        try:
            import vllm
        except ImportError as exc:
            raise ModelLoadError(
                f"cannot load model {path!r} with vLLM: vllm is not installed; {INSTALL_HINT}"
            ) from exc
        try:
            import torch

            cuda = bool(torch.cuda.is_available())
        except ImportError:
            cuda = False
        if not cuda:
            raise ModelLoadError(f"cannot load model {path!r} with vLLM: no CUDA GPU here; {INSTALL_HINT}")
        self._sampling_params: Any = vllm.SamplingParams
        kwargs: dict[str, Any] = {
            "model": path,
            "trust_remote_code": trust_remote_code,
            "gpu_memory_utilization": gpu_memory_utilization,
            "dtype": dtype,
        }
        if max_model_len is not None:
            kwargs["max_model_len"] = max_model_len
        logger.info("loading %s with vLLM", path)
        try:
            self.llm: Any = vllm.LLM(**kwargs)
        except (OSError, ValueError, RuntimeError) as exc:
            raise ModelLoadError(f"cannot load model {path!r} with vLLM: {one_line(exc)}") from exc
        self.tokenizer: Any = self.llm.get_tokenizer()

    def _render(self, prompt: Prompt) -> tuple[str, bool]:
        if isinstance(prompt, str):
            return prompt, True
        text = self.tokenizer.apply_chat_template(list(prompt), tokenize=False, add_generation_prompt=True)
        return str(text), False

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        """One completion per prompt (chats rendered with the model's chat template), in one vLLM batch."""
        config = config or GenerationConfig()
        params = self._sampling_params(
            max_tokens=config.max_new_tokens,
            temperature=config.temperature,
            top_p=config.top_p if config.temperature > 0 else 1.0,
            stop=list(config.stop) or None,
            seed=config.seed,
        )
        inputs: list[dict[str, Any]] = []
        for prompt in prompts:
            text, special = self._render(prompt)
            ids = self.tokenizer(text, add_special_tokens=special)["input_ids"]
            inputs.append({"prompt_token_ids": list(ids)})
        outputs = self.llm.generate(inputs, params, use_tqdm=False)
        return [truncate_at_stop(out.outputs[0].text, config.stop) for out in outputs]

    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """:meth:`score` of each continuation after one prompt (vLLM's prefix caching shares the prompt)."""
        return self.score([prompt] * len(continuations), continuations)

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        """Summed log-probability of each continuation's tokens, from vLLM's ``prompt_logprobs``."""
        if len(prompts) != len(continuations):
            raise ValueError(f"score: {len(prompts)} prompts but {len(continuations)} continuations")
        pairs = []
        for prompt, continuation in zip(prompts, continuations, strict=True):
            text, special = self._render(prompt)
            pair = continuation_token_ids(self.tokenizer, text, continuation, add_special_tokens=special)
            if continuation and not pair[0]:
                raise ModelRequestError(f"{self.spec}: cannot score after an empty prompt (the tokenizer adds no BOS)")
            pairs.append(pair)
        todo = [i for i, (_, cont) in enumerate(pairs) if cont]
        scores = [0.0] * len(pairs)
        if not todo:
            return scores
        params = self._sampling_params(max_tokens=1, temperature=0.0, prompt_logprobs=0)
        inputs = [{"prompt_token_ids": pairs[i][0] + pairs[i][1]} for i in todo]
        outputs = self.llm.generate(inputs, params, use_tqdm=False)
        for i, out in zip(todo, outputs, strict=True):
            prompt_ids, cont_ids = pairs[i]
            ids = prompt_ids + cont_ids
            scores[i] = sum(float(out.prompt_logprobs[j][ids[j]].logprob) for j in range(len(prompt_ids), len(ids)))
        return scores

    def close(self) -> None:
        """Drop the engine and free GPU memory."""
        import gc

        if hasattr(self, "llm"):
            del self.llm
        gc.collect()
        try:
            import torch

            torch.cuda.empty_cache()
        except ImportError:
            pass


@register_backend("vllm")
def _from_spec(target: str) -> LanguageModel:
    spec = f"vllm:{target}"
    path, options = split_options(target, OPTIONS, spec=spec)
    try:
        utilization = float(options.get("gpu_memory_utilization", "0.9"))
    except ValueError:
        raise ModelSpecError(f"bad model spec {spec!r}: gpu_memory_utilization must be a number in (0, 1]") from None
    return VLLMModel(
        path,
        trust_remote_code=option_bool(options, "trust_remote_code", False, spec=spec),
        gpu_memory_utilization=utilization,
        max_model_len=option_int(options, "max_model_len", 0, spec=spec, minimum=0) or None,
        dtype=options.get("dtype", "auto"),
        spec=spec,
    )
