"""Loaders for real benchmarks from local files, into the world's ``Question`` schema.

Nothing is downloaded: point a loader at the files you obtained (see docs/world.md for where).

* NExT-QA (multiple choice): a CSV with columns ``video,frame_count,width,height,question,answer,qid,type,
  a0,a1,a2,a3,a4`` where ``answer`` is the 0-based index of the right option (``val.csv``, ``test.csv``);
  optional ``map_vid_vidorID.json`` maps a video id to its path (``"1106/4010069381"``).
* Charades-STA (temporal grounding): lines ``<video_id> <start_s> <end_s>##<sentence>``
  (``charades_sta_test.txt``); becomes an interval question with a one-call oracle program.
* ActivityNet-QA (open-ended): ``<split>_q.json`` (``[{"video_name", "question_id", "question"}]``) and
  ``<split>_a.json`` (``[{"question_id", "answer", "type"}]``), joined on ``question_id``.

A loader pointed at a file of another format raises ``ConfigError`` that says what it expected.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from vidagent.errors import ConfigError
from vidagent.tasks.oracle import Program, call, compose, ref
from vidagent.tasks.questions import Question, Span

NEXTQA_COLUMNS = ("video", "question", "answer", "qid", "type", "a0", "a1", "a2", "a3", "a4")
# NExT-QA question types: Causal Why/How, Temporal Next/Current/Previous, Descriptive Count/Location/Other/Binary
NEXTQA_FAMILIES = {"CW": "causal", "CH": "causal", "TN": "temporal", "TC": "temporal", "TP": "temporal",
                   "DC": "count", "DL": "location", "DO": "descriptive", "DB": "yesno"}
# ActivityNet-QA types: 0 motion, 1 spatial relation, 2 temporal relation, 3 yes/no, 4 color, 5 object,
# 6 location, 7 number, 8 other.
ACTIVITYNET_FAMILIES = {0: "action", 1: "spatial", 2: "temporal", 3: "yesno", 4: "attribute", 5: "object",
                        6: "location", 7: "count", 8: "other"}
VIDEO_EXTENSIONS = (".mp4", ".mkv", ".webm", ".avi")


def _require_file(path: str | Path, what: str, where: str) -> Path:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{what} file {path} does not exist", f"download it ({where}); see docs/world.md")
    return path


def _find_video(root: Path | None, *stems: str) -> str | None:
    """Path of the first existing ``root/<stem><ext>``; None without a root or when none exists."""
    if root is None:
        return None
    for stem in stems:
        for ext in VIDEO_EXTENSIONS:
            candidate = root / f"{stem}{ext}"
            if candidate.is_file():
                return str(candidate)
    return None


# ---------------------------------------------------------------------------------------------------------


def load_nextqa(csv_path: str | Path, video_root: str | Path | None = None,
                video_map: str | Path | None = None) -> list[Question]:
    """NExT-QA multiple-choice questions. ``video_map`` is ``map_vid_vidorID.json`` (id -> relative path)."""
    path = _require_file(csv_path, "NExT-QA CSV", "github.com/doc-doc/NExT-QA: dataset/nextqa/val.csv")
    mapping: dict[str, str] = {}
    if video_map is not None:
        try:
            mapping = json.loads(_require_file(video_map, "NExT-QA video map", "map_vid_vidorID.json")
                                 .read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ConfigError(f"{video_map} is not JSON ({error})",
                              "pass map_vid_vidorID.json ({video id: 'folder/video id'})") from None
    root = Path(video_root) if video_root is not None else None
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in NEXTQA_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"{path} does not look like a NExT-QA multiple-choice CSV: missing columns {missing}",
                              "pass val.csv / test.csv / train.csv whose header is "
                              "video,frame_count,width,height,question,answer,qid,type,a0,a1,a2,a3,a4")
        questions = []
        for line, row in enumerate(reader, 2):
            choices = [row[f"a{i}"].strip() for i in range(5)]
            raw = row["answer"].strip()
            if raw.isdigit() and int(raw) < 5:
                answer = choices[int(raw)]
            elif raw in choices:  # NExT-GQA stores the answer text instead of its index
                answer = raw
            else:
                raise ConfigError(f"{path}:{line}: answer {raw!r} is neither an option index 0-4 nor an option",
                                  "check the file; the answer column holds the index of the right option")
            video = row["video"].strip()
            stem = mapping.get(video, video)
            questions.append(Question(
                id=f"nextqa-{video}-{row['qid'].strip()}", video=video, video_file=_find_video(root, stem),
                source="nextqa", family=NEXTQA_FAMILIES.get(row["type"].strip().upper(), "descriptive"),
                text=_sentence(row["question"]), answer=answer, answer_type="choice", choices=choices,
                meta={"type": row["type"].strip(), **{k: row[k] for k in ("frame_count", "width", "height")
                                                       if row.get(k)}}))
    return questions


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith("?") else text + "?"


# ---------------------------------------------------------------------------------------------------------

CHARADES_TEMPLATE = "When does this happen: {sentence}? Answer with start and end in seconds."


def load_charades_sta(txt_path: str | Path, video_root: str | Path | None = None) -> list[Question]:
    """Charades-STA grounding queries (``vid start end##sentence`` per line) as interval questions."""
    path = _require_file(txt_path, "Charades-STA", "github.com/jiyanggao/TALL: charades_sta_test.txt")
    root = Path(video_root) if video_root is not None else None
    questions = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        head, sep, sentence = line.partition("##")
        parts = head.split()
        try:
            if not sep or len(parts) != 3 or not sentence.strip():
                raise ValueError
            video, start, end = parts[0], float(parts[1]), float(parts[2])
        except ValueError:
            raise ConfigError(f"{path}:{line_no} is not a Charades-STA line: {line[:80]!r}",
                              "each line must read '<video_id> <start_s> <end_s>##<sentence>', e.g. "
                              "'3MSZA 24.3 30.4##person turn a light on.'") from None
        query = sentence.strip().rstrip(".")
        span = [min(start, end), max(start, end)]
        program = Program(calls=[call("moment", "ground_moment", query=query)],
                          answer=compose("top_span", result=ref("moment")))
        questions.append(Question(
            id=f"charades-{video}-{line_no}", video=video, video_file=_find_video(root, video),
            source="charades-sta", family="grounding", text=CHARADES_TEMPLATE.format(sentence=query),
            answer=span, answer_type="interval", evidence=[Span(start_s=span[0], end_s=span[1])],
            program=program, meta={"query": query}))
    return questions


# ---------------------------------------------------------------------------------------------------------


def _json_list(path: Path, keys: tuple[str, ...], what: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path} is not JSON ({error}); expected the ActivityNet-QA {what} file",
                          "pass test_q.json and test_a.json from github.com/MILVLG/activitynet-qa") from None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ConfigError(f"{path} is not an ActivityNet-QA {what} file (expected a JSON list of objects)",
                          "pass <split>_q.json / <split>_a.json")
    for index, item in enumerate(data):
        missing = [k for k in keys if k not in item]
        if missing:
            raise ConfigError(f"{path}: entry {index} lacks {missing} (ActivityNet-QA {what} entries have {list(keys)})",
                              "pass <split>_q.json as questions and <split>_a.json as answers")
    return data


def load_activitynet_qa(questions_json: str | Path, answers_json: str | Path | None = None,
                        video_root: str | Path | None = None) -> list[Question]:
    """ActivityNet-QA open-ended questions. ``answers_json`` defaults to the ``_q`` file's ``_a`` sibling."""
    q_path = _require_file(questions_json, "ActivityNet-QA questions", "github.com/MILVLG/activitynet-qa: test_q.json")
    if answers_json is None:
        if "_q" not in q_path.stem:
            raise ConfigError(f"cannot guess the answers file for {q_path}", "pass answers_json (e.g. test_a.json)")
        answers_json = q_path.with_name(q_path.name.replace("_q", "_a", 1))
    a_path = _require_file(answers_json, "ActivityNet-QA answers", "github.com/MILVLG/activitynet-qa: test_a.json")
    items = _json_list(q_path, ("video_name", "question_id", "question"), "questions")
    answers = {a["question_id"]: a for a in _json_list(a_path, ("question_id", "answer", "type"), "answers")}
    root = Path(video_root) if video_root is not None else None
    questions = []
    for item in items:
        qid = item["question_id"]
        if qid not in answers:
            raise ConfigError(f"{a_path} has no answer for question {qid!r}",
                              "pass the answers file of the same split as the questions")
        answer, kind = str(answers[qid]["answer"]).strip(), int(answers[qid]["type"])
        number = kind == 7 and answer.replace(".", "", 1).isdigit()
        name = str(item["video_name"])
        stems = (name, f"v_{name}", name.removeprefix("v_"))
        questions.append(Question(
            id=f"activitynet-{qid}", video=name, video_file=_find_video(root, *stems), source="activitynet-qa",
            family=ACTIVITYNET_FAMILIES.get(kind, "other"), text=_sentence(item["question"]),
            answer=float(answer) if number else answer, answer_type="number" if number else "label",
            meta={"type": kind}))
    return questions


LOADERS = {"nextqa": load_nextqa, "charades-sta": load_charades_sta, "activitynet-qa": load_activitynet_qa}
