"""Every ```mlir example in the generated op reference parses and verifies,
and every op appears in at least one example.

Each example is wrapped in a function whose arguments are the values it uses
without defining them, typed from the functional type of the op that uses
them (operands in order of appearance), then run through `winnow-opt`.
Prints one line per example and a summary; exits 1 on the first failure.

usage: check_doc_examples.py OP_REFERENCE.md WINNOW_OPT
"""
import re
import subprocess
import sys

VALUE = re.compile(r"%[A-Za-z_][\w$.]*")


def split_types(text):
    """Top-level comma-separated types of `text` (nested <>, () ignored)."""
    types, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "<(":
            depth += 1
        elif c in ">)":
            depth -= 1
        elif c == "," and depth == 0:
            types.append(text[start:i].strip())
            start = i + 1
    if text[start:].strip():
        types.append(text[start:].strip())
    return types


def statements(example):
    """(results, operands, input types) per op of the example, in order."""
    out = []
    for stmt in re.split(r"\n(?=\s*(?:%|tok\.))", example.strip()):
        stmt = " ".join(stmt.split())
        head, _, rest = stmt.partition(" = ") if re.match(r"%[\w, %]*=", stmt) else ("", "", stmt)
        results = VALUE.findall(head)
        if " : " not in rest:
            out.append((results, [], []))
            continue
        body, _, sig = rest.rpartition(" : ")
        operands = VALUE.findall(re.sub(r"\{[^}]*\}", "", body))
        ins = sig.split("->")[0].strip()
        if ins.startswith("(") and ins.endswith(")"):
            ins = ins[1:-1]
        out.append((results, operands, split_types(ins)))
    return out


def wrap(example, index):
    defined, args = set(), []
    for results, operands, types in statements(example):
        for name, type_ in zip(operands, types):
            if name not in defined and name not in (a for a, _ in args):
                args.append((name, type_))
        defined.update(results)
    signature = ", ".join("%s: %s" % (n, t) for n, t in args)
    return "func.func @example%d(%s) {\n%s\n  return\n}\n" % (index, signature, example)


def main(reference, winnow_opt):
    text = open(reference).read()
    examples = re.findall(r"```mlir\n(.*?)```", text, re.S)
    for i, example in enumerate(examples):
        program = wrap(example, i)
        proc = subprocess.run([winnow_opt, "-"], input=program, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)
        first = example.strip().splitlines()[0]
        if proc.returncode != 0:
            print("FAIL example %d: %s\n%s\n%s" % (i, first, program, proc.stderr))
            return 1
        print("PASS example %d: %s" % (i, first))
    ops = re.findall(r"^### `(tok\.\w+)`", text, re.M)
    missing = [op for op in ops if not any(re.search(re.escape(op) + r"\b", ex) for ex in examples)]
    if missing:
        print("FAIL: no example shows %s" % ", ".join(missing))
        return 1
    print("%d examples parse; every one of the %d ops appears in one" % (len(examples), len(ops)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
