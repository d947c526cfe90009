"""The ``openai:`` backend: any OpenAI-compatible HTTP server (``vllm serve``, ``transformers serve``,
llama.cpp's ``llama-server``, Ollama).

Spec: ``openai:URL#MODEL``, e.g. ``openai:http://127.0.0.1:8000/v1#Qwen/Qwen2.5-0.5B-Instruct``. Options go in
the URL's query and are not sent to the server: ``concurrency`` (requests in flight, default 8), ``timeout``
(seconds per request, default 120), ``retries`` (default 3). ``OPENAI_API_KEY``, where set, is sent as a
bearer token.

Chat prompts go to ``/chat/completions`` (the server applies the chat template), plain strings to
``/completions``. Requests run concurrently (bounded) on an event loop of their own; the methods are synchronous.
Connection errors, timeouts, 429 and 5xx answers are retried with exponential backoff.

:meth:`OpenAIModel.score` needs a server that returns prompt log-probabilities (``echo`` with ``logprobs`` on
``/completions``): ``vllm serve`` does; ``transformers serve``, llama.cpp and Ollama do not, and scoring there
raises :class:`~chessteach.llm.base.ModelRequestError` saying so. The examples are not run as doctests (they need
a running server; ``tests/test_llm.py`` starts a real ``transformers serve``):

>>> model = load_model("openai:http://127.0.0.1:8000/v1?concurrency=16#tiny")  # doctest: +SKIP
>>> model.generate([[{"role": "user", "content": "Name a chess opening."}]])  # doctest: +SKIP
['The Sicilian Defence.']
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import re
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chessteach.llm._util import one_line, option_int, truncate_at_stop
from chessteach.llm.base import (
    GenerationConfig,
    LanguageModel,
    ModelLoadError,
    ModelRequestError,
    ModelSpecError,
    Prompt,
    register_backend,
)

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

T = TypeVar("T")

OPTIONS = ("concurrency", "timeout", "retries")
DEFAULT_CONCURRENCY = 8
DEFAULT_TIMEOUT_S = 120.0
DEFAULT_RETRIES = 3
BACKOFF_S = 0.5
MAX_BACKOFF_S = 20.0
CONNECT_TIMEOUT_S = 10.0
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})

_TOO_LONG = re.compile(
    r"context length|context window|maximum context|max_model_len|too long|exceeds the|longer than|too many tokens",
    re.IGNORECASE,
)
_UNKNOWN_MODEL = re.compile(
    r"model.*(does not exist|not found|not exist|unknown|pinned)|(no such|unknown) model|pinned to", re.IGNORECASE
)
_NO_ECHO = re.compile(r"echo|logprob", re.IGNORECASE)


class _Retryable(Exception):
    """A failure worth another try (connection refused, timeout, 429, 5xx)."""

    def __init__(self, reason: str, *, connect: bool = False, status: int | None = None, message: str = "") -> None:
        super().__init__(reason)
        self.connect = connect
        self.status = status
        self.message = message


class OpenAIModel:
    """A model behind an OpenAI-compatible server (the example is not run as a doctest: it needs the server).

    >>> model = OpenAIModel("http://127.0.0.1:8000/v1", "tiny", concurrency=4)  # doctest: +SKIP
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        backoff_s: float = BACKOFF_S,
        api_key: str | None = None,
        spec: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.spec = spec or f"openai:{self.base_url}#{model}"
        self.concurrency = max(1, concurrency)
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        try:
            import httpx  # noqa: F401 (checked here, used in the requests)
        except ImportError as exc:
            raise ModelLoadError(f"{self.spec}: the openai: backend needs httpx (pip install httpx)") from exc

    # --- the interface ---------------------------------------------------------------------------------------

    def generate(self, prompts: Sequence[Prompt], config: GenerationConfig | None = None) -> list[str]:
        """One completion per prompt: chats through ``/chat/completions``, plain text through ``/completions``."""
        config = config or GenerationConfig()

        async def one(client: httpx.AsyncClient, prompt: Prompt) -> str:
            body: dict[str, Any] = {
                "model": self.model,
                "max_tokens": config.max_new_tokens,
                "temperature": config.temperature,
            }
            if config.temperature > 0:
                body["top_p"] = config.top_p
            if config.stop:
                body["stop"] = list(config.stop)
            if config.seed is not None:
                body["seed"] = config.seed
            keys: tuple[str, ...]
            if isinstance(prompt, str):
                body["prompt"] = prompt
                path, keys = "/completions", ("text",)
            else:
                body["messages"] = list(prompt)
                path, keys = "/chat/completions", ("message", "content")
            answer = await self._post(client, path, body)
            return truncate_at_stop(self._completion_text(answer, path, keys), config.stop)

        return self._run_all(one, prompts)

    def score(self, prompts: Sequence[Prompt], continuations: Sequence[str]) -> list[float]:
        """Summed log-probability of each continuation, from the server's prompt log-probabilities.

        Sends ``prompt + continuation`` to ``/completions`` with ``echo=True, logprobs=1, max_tokens=1`` and sums
        the log-probabilities of the tokens that start at or after the prompt's end (``text_offset``); a token
        that straddles the boundary counts with the continuation. Chat prompts are not scored here: the server
        renders chat templates only for generation, so pass the rendered text, or use the ``hf:`` backend.
        """
        if len(prompts) != len(continuations):
            raise ValueError(f"score: {len(prompts)} prompts but {len(continuations)} continuations")
        for prompt in prompts:
            if not isinstance(prompt, str):
                raise ModelRequestError(
                    f"{self.spec}: scoring takes plain text prompts over HTTP (the chat template is the server's); "
                    "render the chat yourself or use the hf: backend"
                )

        async def one(client: httpx.AsyncClient, pair: tuple[str, str]) -> float:
            prompt, continuation = pair
            if not continuation:
                return 0.0
            body = {
                "model": self.model,
                "prompt": prompt + continuation,
                "echo": True,
                "logprobs": 1,
                "max_tokens": 1,
                "temperature": 0.0,
            }
            try:
                answer = await self._post(client, "/completions", body)
            except ModelRequestError as exc:
                if _NO_ECHO.search(str(exc)) and not _TOO_LONG.search(str(exc)):
                    raise self._cannot_score(str(exc)) from exc
                raise
            return self._continuation_logprob(answer, len(prompt), len(prompt) + len(continuation))

        return self._run_all(one, list(zip([str(p) for p in prompts], continuations, strict=True)))

    def score_continuations(self, prompt: Prompt, continuations: Sequence[str]) -> list[float]:
        """:meth:`score` of each continuation after one prompt (one request each; a server with prefix caching,
        such as ``vllm serve``, computes the prompt once)."""
        return self.score([prompt] * len(continuations), continuations)

    def close(self) -> None:
        """Nothing to free: each call opens and closes its own HTTP connections."""

    # --- scoring helpers -------------------------------------------------------------------------------------

    def _completion_text(self, answer: Any, path: str, keys: tuple[str, ...]) -> str:
        """``answer["choices"][0][keys...]``; a 200 answer without it is an error naming the URL and what is missing
        (never an empty completion that would pass for the model's answer)."""
        choices = _field(answer, "choices")
        text = _field(choices, 0, *keys)
        if isinstance(text, str):
            return text
        if not isinstance(choices, list):
            missing = "no 'choices' list"
        elif not choices:
            missing = "an empty 'choices' list"
        else:
            missing = f"no string at choices[0].{'.'.join(keys)}"
        raise ModelRequestError(f"{self.spec}: {self.base_url}{path} answered 200 with {missing}: {str(answer)[:200]}")

    def _cannot_score(self, detail: str) -> ModelRequestError:
        return ModelRequestError(
            f"{self.spec}: this server cannot score (it returned no prompt log-probabilities for echo=True, "
            f"logprobs=1 on /completions{': ' + detail if detail else ''}); scoring needs a server with prompt "
            "logprobs (`vllm serve MODEL`) or the in-process hf: backend"
        )

    def _continuation_logprob(self, answer: Any, start: int, end: int) -> float:
        """Sum the log-probabilities of the echoed tokens that cover ``text[start:end]``.

        Offsets are aligned from the end of the prompt tokens: servers report ``text_offset`` as the running
        length of the decoded tokens, which counts a BOS token's text (``<s>``) that the prompt does not have.
        """
        logprobs = _field(answer, "choices", 0, "logprobs")
        values = _field(logprobs, "token_logprobs")
        offsets = _field(logprobs, "text_offset")
        tokens = _field(logprobs, "tokens")
        if not isinstance(values, list) or not isinstance(offsets, list) or len(values) != len(offsets) or not values:
            raise self._cannot_score("")
        n_prompt = _field(answer, "usage", "prompt_tokens")
        if not isinstance(n_prompt, int) or not 0 < n_prompt <= len(values):
            n_prompt = len(values) - 1  # echo gives the prompt's tokens, then the one generated token
        if n_prompt < 1:
            raise self._cannot_score("the answer's logprobs do not cover the prompt")

        def token_end(i: int) -> int:
            if isinstance(tokens, list) and i < len(tokens) and isinstance(tokens[i], str):
                return int(offsets[i]) + len(tokens[i])
            return int(offsets[i + 1]) if i + 1 < len(offsets) else int(offsets[i])

        shift = token_end(n_prompt - 1) - end
        total = 0.0
        counted = 0
        for i in range(n_prompt):
            if token_end(i) <= start + shift:
                continue  # a prompt token; one that straddles the boundary counts with the continuation
            value = values[i]
            if value is None:
                raise ModelRequestError(f"{self.spec}: the server gave no log-probability for the first token")
            total += float(value)
            counted += 1
        if counted == 0:
            raise ModelRequestError(f"{self.spec}: the server's token offsets do not reach the continuation")
        return total

    # --- HTTP ------------------------------------------------------------------------------------------------

    def _run_all(self, one: Callable[[httpx.AsyncClient, Any], Awaitable[T]], items: Sequence[Any]) -> list[T]:
        """Run ``one`` over ``items`` with at most ``concurrency`` requests in flight; results in order."""
        if not items:
            return []

        import httpx

        async def main() -> list[T]:
            semaphore = asyncio.Semaphore(self.concurrency)
            timeout = httpx.Timeout(self.timeout_s, connect=min(CONNECT_TIMEOUT_S, self.timeout_s))
            limits = httpx.Limits(max_connections=self.concurrency)
            async with httpx.AsyncClient(timeout=timeout, limits=limits, headers=self._headers) as client:

                async def bounded(item: Any) -> T:
                    async with semaphore:
                        return await one(client, item)

                return list(await asyncio.gather(*(bounded(item) for item in items)))

        return _run_coroutine(main)

    async def _post(self, client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> Any:
        """POST with retries; turn failures into :class:`ModelLoadError` / :class:`ModelRequestError`."""
        url = self.base_url + path
        for attempt in range(self.retries + 1):
            try:
                return await self._post_once(client, url, body)
            except _Retryable as exc:
                if attempt == self.retries:
                    raise self._give_up(exc) from None
                delay = min(MAX_BACKOFF_S, self.backoff_s * 2**attempt) * (1 + 0.1 * random.random())
                logger.warning("%s: %s; retrying in %.1f s (%d/%d)", url, exc, delay, attempt + 1, self.retries)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _post_once(self, client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> Any:
        import httpx

        try:
            response = await client.post(url, json=body)
        except httpx.ConnectError as exc:
            raise _Retryable(f"cannot connect: {one_line(exc)}", connect=True) from exc
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {self.timeout_s:g} s ({type(exc).__name__})") from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise _Retryable(f"connection broke: {one_line(exc)}") from exc
        if response.status_code == 200:
            try:
                return response.json()
            except ValueError as exc:
                raise ModelRequestError(
                    f"{self.spec}: {url} answered 200 with something other than JSON: {response.text[:100]!r}"
                ) from exc
        message = _server_message(response)
        if response.status_code in RETRY_STATUS:
            raise _Retryable(f"HTTP {response.status_code}: {message}", status=response.status_code, message=message)
        await self._raise_refusal(client, url, response.status_code, message)
        raise AssertionError("unreachable")

    def _give_up(self, exc: _Retryable) -> ModelLoadError | ModelRequestError:
        tries = f"after {self.retries + 1} tries"
        if exc.connect:
            return ModelLoadError(
                f"no server at {self.base_url} ({exc}, {tries}): start one with `vllm serve MODEL` "
                "or `transformers serve MODEL`"
            )
        if exc.status is not None:
            return ModelRequestError(f"{self.spec}: server error HTTP {exc.status} {tries}: {exc.message}")
        return ModelRequestError(f"{self.spec}: {exc} {tries}")

    async def _raise_refusal(self, client: httpx.AsyncClient, url: str, status: int, message: str) -> None:
        if _TOO_LONG.search(message) and status in (400, 413, 422):
            raise ModelRequestError(f"{self.spec}: prompt too long for the model's context (HTTP {status}: {message})")
        if (status == 404 and ("model" in message.lower() or not message)) or (
            status in (400, 404) and _UNKNOWN_MODEL.search(message)
        ):
            served = await self._served_models(client)
            listing = f"; the server offers: {', '.join(served)}" if served else ""
            raise ModelRequestError(
                f"{self.spec}: the server does not know model {self.model!r} (HTTP {status}: {message}){listing}"
            )
        if status == 404:
            raise ModelRequestError(
                f"{self.spec}: {url} not found (HTTP 404): is {self.base_url} an OpenAI-compatible base URL "
                "ending in /v1?"
            )
        raise ModelRequestError(f"{self.spec}: HTTP {status} from {url}: {message}")

    async def _served_models(self, client: httpx.AsyncClient) -> list[str]:
        """The model ids ``/models`` lists; empty where the server cannot say."""
        import httpx

        try:
            response = await client.get(self.base_url + "/models")
            data = response.json().get("data", []) if response.status_code == 200 else []
            return [str(m["id"]) for m in data if isinstance(m, dict) and "id" in m]
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            logger.debug("cannot list the models at %s: %s", self.base_url, exc)
            return []


def _field(data: Any, *keys: str | int) -> Any:
    """``data[k1][k2]...``, or None where a key is missing."""
    for key in keys:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _server_message(response: httpx.Response) -> str:
    """The error message in a server's answer: OpenAI's ``{"error": {"message"}}``, FastAPI's ``{"detail"}``..."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason_phrase
    for keys in (("error", "message"), ("detail",), ("error",), ("message",)):
        value = _field(data, *keys)
        if isinstance(value, str) and value:
            return value[:500]
        if value is not None and keys == ("detail",):
            return str(value)[:500]
    return str(data)[:500]


def _run_coroutine(main: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion from synchronous code, also when this thread already runs an event loop."""

    async def wrapper() -> T:
        return await main()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wrapper())
    result: list[T] = []
    error: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(wrapper()))
        except BaseException as exc:  # handed back to the caller's thread
            error.append(exc)

    thread = threading.Thread(target=target, name="chessteach-openai")
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def parse_target(target: str, *, spec: str) -> tuple[str, str, dict[str, str]]:
    """Split ``URL#MODEL`` into the base URL (without our options), the model and the options.

    >>> parse_target("http://127.0.0.1:8000/v1?concurrency=4#tiny", spec="openai:...")
    ('http://127.0.0.1:8000/v1', 'tiny', {'concurrency': '4'})
    """
    url, sep, model = target.partition("#")
    if not sep or not model or not url:
        raise ModelSpecError(
            f"bad model spec {spec!r}: expected openai:URL#MODEL, e.g. openai:http://127.0.0.1:8000/v1#tiny"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ModelSpecError(f"bad model spec {spec!r}: {url!r} is not an http(s) URL")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    options = {k: v for k, v in query.items() if k in OPTIONS}
    rest = {k: v for k, v in query.items() if k not in OPTIONS}
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
    return base, model, options


@register_backend("openai")
def _from_spec(target: str) -> LanguageModel:
    spec = f"openai:{target}"
    base, model, options = parse_target(target, spec=spec)
    timeout = options.get("timeout")
    try:
        timeout_s = float(timeout) if timeout else DEFAULT_TIMEOUT_S
    except ValueError:
        raise ModelSpecError(f"bad model spec {spec!r}: timeout={timeout!r} is not a number of seconds") from None
    return OpenAIModel(
        base,
        model,
        concurrency=option_int(options, "concurrency", DEFAULT_CONCURRENCY, spec=spec),
        timeout_s=timeout_s,
        retries=option_int(options, "retries", DEFAULT_RETRIES, spec=spec, minimum=0),
        spec=spec,
    )
