"""The report: machine details, the side-by-side table and the targets."""

import datetime
import os
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Callable, Optional

TARGET_P50_MS = 12.0
TARGET_P95_MS = 25.0
TARGET_RSS_MB = 700.0
TARGET_TRAINING_RATIO = 0.25


@dataclass
class ConfigResult:
    """Everything measured for one config."""

    label: str
    training_seconds: float
    startup_seconds: float
    accuracy: float
    macro_f1: float
    fallbacks: int
    p50_ms: float
    p95_ms: float
    empty_replies: int
    peak_rss_mb: float


ROWS: list[tuple[str, Callable[[ConfigResult], float], str]] = [
    ("training seconds", lambda r: r.training_seconds, "{:.1f}"),
    ("held-out intent accuracy", lambda r: r.accuracy, "{:.3f}"),
    ("held-out macro-F1", lambda r: r.macro_f1, "{:.3f}"),
    ("REST reply latency p50 (ms)", lambda r: r.p50_ms, "{:.1f}"),
    ("REST reply latency p95 (ms)", lambda r: r.p95_ms, "{:.1f}"),
    ("server start-up seconds", lambda r: r.startup_seconds, "{:.1f}"),
    ("Rasa server peak RSS (MB)", lambda r: r.peak_rss_mb, "{:.0f}"),
]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_count() -> int:
    """What `nproc` prints: the CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 0


def render(
    project: Optional[ConfigResult],
    default: Optional[ConfigResult],
    *,
    training_examples: int,
    held_out_examples: int,
    latency_messages: int,
    warmup_messages: int,
    action_server_rss_mb: float,
) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark: project config vs Rasa default config",
        "",
        f"- date: {now}",
        f"- machine: {platform.machine()}, {cpu_count()} CPUs (nproc), {cpu_model()}",
        f"- python {platform.python_version()}, rasa {metadata.version('rasa')}, "
        f"rasa-sdk {metadata.version('rasa-sdk')}",
        f"- training examples: {training_examples} (data/); held-out examples: {held_out_examples} "
        "(tests/nlu_dev.yml)",
        f"- latency: N={latency_messages} timed REST messages per config after {warmup_messages} warm-up, "
        "one client, sequential, keep-alive",
        "",
    ]
    results = [r for r in (project, default) if r is not None]
    header = [""] + [r.label for r in results] + (["ratio (project/default)"] if project and default else [])
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" + "---:|" * (len(header) - 1))
    for name, value, fmt in ROWS:
        cells = [name] + [fmt.format(value(r)) for r in results]
        if project and default:
            cells.append(_ratio(value(project), value(default)))
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Action server peak RSS (shared by both configs): {action_server_rss_mb:.0f} MB",
        "Held-out predictions that were nlu_fallback (counted wrong): "
        + ", ".join(f"{r.label} {r.fallbacks}" for r in results),
        "Timed REST replies without any bot text: "
        + ", ".join(f"{r.label} {r.empty_replies}/{latency_messages}" for r in results),
        "",
        "Targets (project config):",
        "",
    ]
    lines += [f"- {target}" for target in _targets(project, default)]
    return "\n".join(lines) + "\n"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def _targets(project: Optional[ConfigResult], default: Optional[ConfigResult]) -> list[str]:
    if project is None:
        return ["n/a: the project config was not run (--only default)"]
    if default is None:
        missing = "n/a: the default config was not run (--only project)"
        targets = [f"held-out accuracy >= default's: {missing}", f"training time <= 1/4 of default's: {missing}"]
    else:
        targets = [
            _target(
                "held-out accuracy >= default's",
                project.accuracy >= default.accuracy,
                f"{project.accuracy:.3f} vs {default.accuracy:.3f}",
            ),
            _target(
                "training time <= 1/4 of default's",
                project.training_seconds <= TARGET_TRAINING_RATIO * default.training_seconds,
                f"{project.training_seconds:.1f} s vs {default.training_seconds:.1f} s, "
                f"ratio {_ratio(project.training_seconds, default.training_seconds)}",
            ),
        ]
    return targets + [
        _target(f"REST p50 <= {TARGET_P50_MS:.0f} ms", project.p50_ms <= TARGET_P50_MS, f"{project.p50_ms:.1f} ms"),
        _target(f"REST p95 <= {TARGET_P95_MS:.0f} ms", project.p95_ms <= TARGET_P95_MS, f"{project.p95_ms:.1f} ms"),
        _target(
            f"Rasa server peak RSS <= {TARGET_RSS_MB:.0f} MB",
            project.peak_rss_mb <= TARGET_RSS_MB,
            f"{project.peak_rss_mb:.0f} MB",
        ),
    ]


def _target(name: str, holds: bool, detail: str) -> str:
    return f"{name}: {'holds' if holds else 'NOT MET'} ({detail})"
