"""Benchmark workload: JSON encode and decode of nested documents."""
import json


class Point:
    def __init__(self, x, y):
        self.x, self.y = x, y


def encode_default(obj):
    if isinstance(obj, Point):
        return {"x": obj.x, "y": obj.y}
    raise TypeError(type(obj).__name__)


def make_doc(i):
    return {
        "id": i, "name": f"record-{i}", "active": i % 2 == 0, "score": i * 0.37,
        "tags": [f"t{i % 17}", f"t{i % 5}"], "where": Point(i % 100, i // 100),
        "children": [{"k": j, "v": str(j * i)} for j in range(5)],
    }


def roundtrip(docs):
    text = json.dumps(docs, default=encode_default)
    back = json.loads(text)
    pretty = json.dumps(back, indent=2, sort_keys=True)
    return len(text) + len(pretty), json.loads(pretty, object_hook=lambda d: d)


if __name__ == "__main__":
    docs = [make_doc(i) for i in range(4_000)]
    size = 0
    for _ in range(3):
        n, docs_back = roundtrip(docs)
        size += n
    print(size, len(docs_back))
