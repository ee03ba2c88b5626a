"""GRPO rollouts through the planner graph: TRL's ``rollout_func(prompts, trainer)``.

Every prompt is one question (the dataset's ``prompt`` column holds the question id; the sampler already
repeats each question ``num_generations`` times). For each, the **same LangGraph graph** that serves
``vidagent ask`` runs with the trainer's current model behind ``LocalChatModel`` (sampling), on the run's
toolbox. All rollouts of a batch run at once in threads, so their LLM calls are batched into one
``generate`` per turn. Each finished run is rendered to ids by ``LocalChatModel.trajectory``:

    prompt_ids      system prompt + question + assistant header
    completion_ids  reply 1 + <tool_response>...</tool_response> + reply 2 + ... + final reply (ends in EOS)
    env_mask        1 on the tokens the model sampled, 0 on observations and template tokens: TRL multiplies
                    it into the loss mask, so the policy is never trained to "predict" tool outputs
    logprobs        the sampling log-probs of the model's tokens (0.0 on observation tokens)

plus ``final_answer`` and ``episode`` per completion, which TRL forwards to the reward functions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from vidagent.agent.api import Agent, Result
from vidagent.agent.sampling import SamplingPlan
from vidagent.errors import ToolCrash
from vidagent.policies.trajectories import Trajectory, trajectory_from_result
from vidagent.tasks.questions import Question
from vidagent.tools.toolbox import Toolbox


def run_questions(agent: Agent | Callable[[Question], Agent], questions: Sequence[Question], video_path: Callable[[Question], str], *,
                  concurrency: int, progress: str | None = None, keep_crashes: bool = False,
                  on_done: Callable[[int, int], Any] | None = None,
                  samples: int | SamplingPlan = 1) -> list[Result | ToolCrash]:
    """Answer ``questions`` with ``agent``, ``concurrency`` at a time (a local model batches their calls).

    ``progress`` names a progress bar on stderr (evaluation); training rollouts leave it off. A tool that
    crashes (a bug, not a tool mistake) stops everything, unless ``keep_crashes``: then that question's
    entry is the ``ToolCrash`` and the others go on (evaluation counts it as a crash). ``on_done(done, total)``
    is called as each question finishes, in the order they finish (GRPO's progress lines). ``samples``
    answers each question by a vote over sampled runs (``Agent.ask``). ``agent`` may be a function of the
    question (GRPO's varied toolboxes: one agent per toolbox).
    """
    agent_of = agent if not isinstance(agent, Agent) else (lambda _question: agent)
    finished = [0]
    count_lock = threading.Lock()

    def ask(question: Question) -> Result | ToolCrash:
        try:
            result: Result | ToolCrash = agent_of(question).ask(video_path(question), question.text, samples=samples,
                                                   answer_type=question.answer_type, choices=question.choices or None)
        except ToolCrash as crash:
            if not keep_crashes:
                raise
            result = crash
        if on_done is not None:
            with count_lock:  # one call at a time, in order
                finished[0] += 1
                on_done(finished[0], len(questions))
        return result

    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="vidagent-rollout") as pool:
        results = pool.map(ask, questions)
        if progress is not None:
            from tqdm import tqdm  # noqa: PLC0415

            results = tqdm(results, total=len(questions), desc=progress, unit="question")
        return list(results)


class GraphRollout:
    """The ``rollout_func`` for ``GRPOTrainer``: runs the planner graph for every prompt."""

    def __init__(self, questions: Sequence[Question], video_path: Callable[[Question], str], toolbox: Toolbox,
                 tokenizer: Any, *, max_tool_calls: int, max_new_tokens: int, temperature: float,
                 toolboxes: dict[str, Toolbox] | None = None):
        self.questions = {q.id: q for q in questions}
        self.video_path = video_path
        self.toolbox = toolbox
        self.toolboxes = toolboxes or {}  # question id -> its own toolbox (``episodes.rollout_mix``)
        self.tokenizer = tokenizer
        self.max_tool_calls = max_tool_calls
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.last_trajectories: list[Trajectory] = []  # for logging by the trainer
        # called with (done, total) as each rollout of a batch finishes: the trainer's progress lines
        self.progress: Callable[[int, int], Any] | None = None
        self._chat: Any = None
        self._lock = threading.Lock()

    def chat_model(self, model: Any, batch: int) -> Any:
        """A sampling ``LocalChatModel`` over the trainer's (live) model; rebuilt if the model object changes."""
        from vidagent.agent.chat_models.local import LocalChatModel  # noqa: PLC0415

        if self._chat is None or self._chat.model is not model or self._chat.max_batch != batch:
            self._chat = LocalChatModel(model=model, tokenizer=self.tokenizer, model_name="policy", do_sample=True,
                                        temperature=self.temperature, top_p=1.0,
                                        max_new_tokens=self.max_new_tokens, max_batch=batch,
                                        # rollouts start together and oracle tools answer in microseconds, so
                                        # waiting a little for the whole batch beats a decode of half of it
                                        # (measured: 20 ms split the first turn of 12 rollouts 6 + 6)
                                        batch_wait_s=0.25)
        return self._chat

    def __call__(self, prompts: list[str], trainer: Any) -> dict[str, list]:
        model = trainer.accelerator.unwrap_model(trainer.model)
        trajectories = self.rollout(model, [self.question_of(p) for p in prompts])
        self.last_trajectories = trajectories
        return {
            "prompt_ids": [t.prompt_ids for t in trajectories],
            "completion_ids": [t.completion_ids for t in trajectories],
            "logprobs": [t.logprobs for t in trajectories],
            "env_mask": [t.model_mask for t in trajectories],
            "final_answer": [t.answer for t in trajectories],
            "episode": [t.episode for t in trajectories],
        }

    def question_of(self, prompt: Any) -> Question:
        key = prompt if isinstance(prompt, str) else str(prompt)
        if key not in self.questions:
            raise KeyError(f"rollout prompt {key!r} is not a known question id (the dataset's prompt column must "
                           "hold question ids; see vidagent.policies.grpo.question_dataset)")
        return self.questions[key]

    def rollout(self, model: Any, questions: list[Question], weights_changed: bool = True) -> list[Trajectory]:
        """One sampled graph run per question, concurrently; generation in eval mode, without gradients.
        ``weights_changed=False`` keeps the cached prompt keys of the previous call (benchmarks)."""
        with self._lock:
            chat = self.chat_model(model, len(questions))
            if weights_changed:  # a training step since the last batch: cached prompt keys are stale
                chat.clear_prefix_cache()
            agents: dict[int, Agent] = {}

            def agent(question: Question) -> Agent:  # one agent (graph) per toolbox of the batch
                toolbox = self.toolboxes.get(question.id, self.toolbox)
                if id(toolbox) not in agents:
                    agents[id(toolbox)] = Agent(chat, toolbox, max_tool_calls=self.max_tool_calls,
                                                frame_budget=None)
                return agents[id(toolbox)]

            for question in questions:
                agent(question)  # built here, not in the rollout threads
            was_training = model.training
            model.eval()
            if self.progress is not None:
                self.progress(0, len(questions))  # the batch starts
            try:
                results = run_questions(agent, questions, self.video_path, concurrency=len(questions),
                                        on_done=self.progress)
            finally:
                model.train(was_training)
            return [trajectory_from_result(q.id, r, chat, generated=True)
                    for q, r in zip(questions, results, strict=True)]
