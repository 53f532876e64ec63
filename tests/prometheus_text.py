"""Reading a /metrics page in tests: samples keyed by name and labels, compared before and after."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple], float]


def parse(text: str) -> Samples:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def label_values(samples: Samples, name: str, label: str, **labels: str) -> set[str]:
    """The values `label` takes over the samples of `name` that carry `labels`."""
    found = set()
    for (sample_name, sample_labels), _ in samples.items():
        as_dict = dict(sample_labels)
        if sample_name == name and label in as_dict and all(as_dict.get(k) == v for k, v in labels.items()):
            found.add(as_dict[label])
    return found
